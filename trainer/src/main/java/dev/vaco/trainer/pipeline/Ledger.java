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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

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
 *
 * <p>A torn write: a kill in the middle of an append leaves a last line without its {@code '\n'}. Opening the ledger
 * truncates that partial line away before anything is appended (see {@link #repairTornTail}); any other line that is
 * not a JSON object is corruption, and reading the file refuses it naming the file and line.
 */
public final class Ledger implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;
    private final long tornBytes;

    public Ledger(Path file) throws IOException {
        this.file = file;
        Files.createDirectories(file.getParent());
        this.tornBytes = repairTornTail(file);
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /**
     * Cuts a torn last line (one without its {@code '\n'}) off {@code file}; returns how many bytes were cut (0 if the
     * file ends cleanly or does not exist).
     *
     * <p>Truncation, not "terminate the line and skip it on replay": an append is acknowledged only when
     * {@link #write} returns, and it returns after the whole line <em>including</em> its {@code '\n'} reached the
     * operating system. Bytes after the last {@code '\n'} therefore belong to a call that never returned, so cutting
     * them loses nothing acknowledged: a torn {@code admit} was never issued (the resumed run admits that number
     * again), a torn {@code scored} is sampled again, and a torn {@code trained} belongs to a step whose checkpoint was
     * never written (the {@code resume} marker voids that step anyway). Terminating instead would leave a malformed
     * line in the middle of the file once more lines follow, indistinguishable from real corruption.
     */
    static long repairTornTail(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long end = size;
            // scan back in chunks to the last '\n'; a torn line is at most one record long
            ByteBuffer chunk = ByteBuffer.allocate(8192);
            scan:
            while (end > 0) {
                int n = (int) Math.min(chunk.capacity(), end);
                chunk.clear().limit(n);
                while (chunk.hasRemaining()) {
                    if (ch.read(chunk, end - n + chunk.position()) < 0) throw new IOException(file + ": shrank while read");
                }
                for (int i = n - 1; i >= 0; i--, end--) {
                    if (chunk.get(i) == '\n') break scan;
                }
            }
            if (end == size) return 0;
            ch.truncate(end);
            ch.force(true);
            return size - end;
        }
    }

    /** Bytes of a torn last line cut off when this ledger was opened (0: the file ended cleanly). */
    public long tornBytesRepaired() {
        return tornBytes;
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

    /**
     * Replays {@code file}: every admitted group with its scored samples and effective trained step. A torn last line
     * (no {@code '\n'}: a kill mid-write that no {@link Ledger} has repaired yet) is ignored; a malformed line anywhere
     * else is refused.
     */
    public static Map<Long, Entry> replay(Path file) throws IOException {
        Map<Long, Entry> groups = new TreeMap<>();
        if (!Files.isRegularFile(file)) return groups;
        List<JsonNode> records = records(file);
        Map<Long, Integer> trained = new LinkedHashMap<>();
        Set<Long> rejected = new HashSet<>();
        for (int i = 0; i < records.size(); i++) {
            JsonNode o = records.get(i);
            if (o == null) continue;
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

    /**
     * The versions above {@code version} that sampled a token of a group not trained (after replay). On a resume from
     * the checkpoint of version V these came from learner steps lost with the process: the servers sampled with weights
     * that no longer exist in the run's history, so they are rejected like a rollback and their groups sampled again.
     */
    public static Set<Long> sampledAbove(Path file, long version) throws IOException {
        Set<Long> out = new TreeSet<>();
        for (Entry e : replay(file).values()) {
            if (e.trainedAtStep() != null || e.scored() == null) continue;
            for (Rollout r : e.scored()) for (long v : r.versions()) if (v > version) out.add(v);
        }
        return out;
    }

    /** How many times each group was trained in the surviving history (for audits and tests). */
    public static Map<Long, Integer> trainedCounts(Path file) throws IOException {
        Map<Long, List<Integer>> steps = new LinkedHashMap<>();
        for (JsonNode o : records(file)) {
            if (o == null) continue;
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

    private static boolean sampledBy(Rollout r, Set<Long> versions) {
        for (long v : r.versions()) if (versions.contains(v)) return true;
        return false;
    }

    /**
     * The file's records, one per line (null for a blank line, so that index + 1 is the line number). A line that is
     * not a JSON object is refused naming the file and line, except a last line without its {@code '\n'}: that is a
     * torn write, left out.
     */
    static List<JsonNode> records(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        boolean tornTail = bytes.length > 0 && bytes[bytes.length - 1] != '\n';
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        // split leaves an empty string after a final '\n'; a torn file's last element is the partial line
        int count = tornTail ? lines.length : lines.length - 1;
        List<JsonNode> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String l = lines[i];
            if (l.isBlank()) {
                out.add(null);
                continue;
            }
            JsonNode o = null;
            try {
                o = JSON.readTree(l);
            } catch (IOException e) {
                // not JSON: judged below
            }
            if (o != null && o.isObject()) out.add(o);
            else if (tornTail && i == count - 1) out.add(null);
            else throw new IOException(file + ": line " + (i + 1) + " is not a JSON object (the ledger is corrupt here;"
                        + " only a last line cut short by a kill is repaired)");
        }
        return out;
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
