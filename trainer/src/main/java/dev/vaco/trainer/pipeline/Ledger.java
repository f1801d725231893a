package dev.vaco.trainer.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.datasets.Problem;
import dev.vaco.learner.Rollout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The durable record of every group's life: {@code admit} (problem, prompt ids, seed, pinned version), {@code scored}
 * (every sample with its tokens, behaviour log-probs, versions and reward), {@code trained} (at which learner step),
 * {@code resume} markers, and the policy versions rejected ({@code dropped} before going live, or {@code rollback}). One JSON object per line in {@code ledger.jsonl}, appended and written through to the
 * operating system before the call returns, so a killed trainer (kill -9) loses nothing that was acknowledged.
 *
 * <p>Exactly once: a step's {@code trained} lines are written <em>before</em> its checkpoint. A resume from the
 * checkpoint of step s appends {@code resume s}, which voids every {@code trained} line of a step after s (those
 * updates were lost with the process, so their groups must be trained again); {@link #replay} applies that rule.
 * A rejected version voids the scored samples of every untrained group with a token it sampled: those groups are
 * sampled again, never trained.
 */
public final class Ledger implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;

    public Ledger(Path file) throws IOException {
        this.file = file;
        Files.createDirectories(file.getParent());
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** A group as the ledger knows it after replay. */
    public record Entry(long group, Problem problem, int[] prompt, long seed, Long pinnedVersion, List<Rollout> scored,
                        Integer trainedAtStep) {}

    public synchronized void admit(long group, Problem p, int[] prompt, long seed, Long pinned) {
        ObjectNode o = JSON.createObjectNode().put("e", "admit").put("g", group).put("seed", seed);
        if (pinned != null) o.put("pin", pinned);
        ObjectNode prob = o.putObject("problem");
        prob.put("id", p.id()).put("question", p.question()).put("gold", p.goldAnswer()).put("solution", p.solution())
                .put("source", p.source()).put("level", p.level()).put("subject", p.subject());
        ints(o.putArray("prompt"), prompt);
        append(o);
    }

    public synchronized void scored(long group, List<Rollout> rollouts) {
        ObjectNode o = JSON.createObjectNode().put("e", "scored").put("g", group);
        ArrayNode samples = o.putArray("samples");
        for (Rollout r : rollouts) {
            ObjectNode s = samples.addObject();
            ints(s.putArray("tokens"), r.completion());
            ArrayNode lp = s.putArray("logprobs");
            for (float x : r.behaviour()) lp.add((double) x);
            ArrayNode vs = s.putArray("versions");
            for (long v : r.versions()) vs.add(v);
            s.put("reward", r.reward()).put("verdict", r.verdict()).put("finish", r.finish());
        }
        append(o);
    }

    public synchronized void trained(List<Long> groups, int step) {
        StringBuilder b = new StringBuilder();
        for (long g : groups) b.append(JSON.createObjectNode().put("e", "trained").put("g", g).put("step", step)).append('\n');
        write(b.toString());
    }

    /** Policy {@code version} was rejected: {@code event} is {@code dropped} (never live) or {@code rollback}. */
    public synchronized void rejected(long version, String event) {
        if (!event.equals("dropped") && !event.equals("rollback")) throw new IllegalArgumentException("unknown event " + event);
        append(JSON.createObjectNode().put("e", event).put("v", version));
    }

    public synchronized void resume(int step) {
        append(JSON.createObjectNode().put("e", "resume").put("step", step));
    }

    private void append(ObjectNode o) {
        write(o.toString() + "\n");
    }

    private void write(String s) {
        try {
            ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) channel.write(b);
            // write() has handed the bytes to the OS: they survive kill -9. (Power loss would need force(); not the
            // failure this ledger is for, and an fsync per group would cost more than the group.)
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    /** Replays {@code file}: every admitted group with its scored samples and effective trained step. A torn last line is ignored. */
    public static Map<Long, Entry> replay(Path file) throws IOException {
        Map<Long, Entry> groups = new TreeMap<>();
        if (!Files.isRegularFile(file)) return groups;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Map<Long, Integer> trained = new LinkedHashMap<>();
        java.util.Set<Long> rejected = new java.util.HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) continue;
            JsonNode o;
            try {
                o = JSON.readTree(l);
            } catch (IOException e) {
                if (i == lines.size() - 1) break; // torn by a kill mid-write
                throw new IOException(file + ": line " + (i + 1) + " is not valid JSON", e);
            }
            long g = o.path("g").asLong();
            switch (o.path("e").asText()) {
                case "admit" -> {
                    JsonNode p = o.path("problem");
                    Problem prob = new Problem(p.path("id").asText(), p.path("question").asText(), p.path("gold").asText(),
                            text(p, "solution"), p.path("source").asText(), text(p, "level"), text(p, "subject"));
                    groups.put(g, new Entry(g, prob, toInts(o.path("prompt")), o.path("seed").asLong(),
                            o.has("pin") ? o.path("pin").asLong() : null, null, null));
                }
                case "scored" -> {
                    Entry e = groups.get(g);
                    if (e == null) throw new IOException(file + ": line " + (i + 1) + ": group " + g + " scored before admitted");
                    List<Rollout> rs = new ArrayList<>();
                    for (JsonNode s : o.path("samples")) {
                        JsonNode lp = s.path("logprobs"), vs = s.path("versions");
                        float[] l2 = new float[lp.size()];
                        long[] v2 = new long[vs.size()];
                        for (int k = 0; k < l2.length; k++) l2[k] = (float) lp.get(k).doubleValue();
                        for (int k = 0; k < v2.length; k++) v2[k] = vs.get(k).longValue();
                        rs.add(new Rollout(e.problem(), (int) g, e.prompt(), toInts(s.path("tokens")), l2, v2,
                                (float) s.path("reward").doubleValue(), s.path("verdict").asText(), s.path("finish").asText()));
                    }
                    groups.put(g, new Entry(g, e.problem(), e.prompt(), e.seed(), e.pinnedVersion(), rs, null));
                }
                case "trained" -> trained.put(g, o.path("step").asInt());
                case "dropped", "rollback" -> rejected.add(o.path("v").asLong());
                case "resume" -> {
                    int s = o.path("step").asInt();
                    trained.values().removeIf(step -> step > s);
                }
                default -> throw new IOException(file + ": line " + (i + 1) + ": unknown event " + o.path("e"));
            }
        }
        trained.forEach((g, step) -> {
            Entry e = groups.get(g);
            if (e != null) groups.put(g, new Entry(g, e.problem(), e.prompt(), e.seed(), e.pinnedVersion(), e.scored(), step));
        });
        if (!rejected.isEmpty()) groups.replaceAll((g, e) -> e.trainedAtStep() == null && e.scored() != null
                && e.scored().stream().anyMatch(r -> sampledBy(r, rejected))
                ? new Entry(g, e.problem(), e.prompt(), e.seed(), e.pinnedVersion(), null, null) : e);
        return groups;
    }

    /** How many times each group was trained in the surviving history (for audits and tests). */
    public static Map<Long, Integer> trainedCounts(Path file) throws IOException {
        Map<Long, List<Integer>> steps = new LinkedHashMap<>();
        for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (l.isBlank()) continue;
            JsonNode o;
            try {
                o = JSON.readTree(l);
            } catch (IOException e) {
                continue;
            }
            switch (o.path("e").asText()) {
                case "admit" -> steps.putIfAbsent(o.path("g").asLong(), new ArrayList<>());
                case "trained" -> steps.computeIfAbsent(o.path("g").asLong(), k -> new ArrayList<>()).add(o.path("step").asInt());
                case "resume" -> {
                    int s = o.path("step").asInt();
                    steps.values().forEach(list -> list.removeIf(step -> step > s));
                }
                default -> { }
            }
        }
        Map<Long, Integer> counts = new TreeMap<>();
        steps.forEach((g, list) -> counts.put(g, list.size()));
        return counts;
    }

    private static boolean sampledBy(Rollout r, java.util.Set<Long> versions) {
        for (long v : r.versions()) if (versions.contains(v)) return true;
        return false;
    }

    private static String text(JsonNode n, String f) {
        return n.hasNonNull(f) ? n.get(f).asText() : null;
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }

    private static int[] toInts(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).intValue();
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
