package dev.vaco.trainer.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.datasets.Prompts;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.function.ToDoubleFunction;

/**
 * An offline evaluation: k samples per problem from a server (at a pinned policy version when asked), each scored by
 * the verifier, written one JSON line per sample, then pass@k, maj@k and mean@k with bootstrap confidence intervals
 * and a breakdown by level and subject.
 *
 * <p>Resumable: {@code samples.jsonl} is appended to as problems finish; a re-run reads it, skips every problem that
 * already has its k samples, and evaluates the rest. A torn last line (a killed run) is dropped.
 */
public final class EvalRun {
    /**
     * @param k           samples per problem
     * @param temperature 0 = greedy (then k should be 1)
     * @param maxTokens   completion tokens at most
     * @param seed        base seed; problem i samples with seed + i, so a resumed run draws what the first would have
     * @param policyVersion pin a resident server version, or null for the live one
     * @param concurrency problems in flight at once
     */
    public record Config(int k, double temperature, double topP, int maxTokens, long seed, Long policyVersion,
                         int concurrency, int bootstrapResamples) {
        public Config {
            if (k < 1 || k > 64) throw new IllegalArgumentException("--k must be in [1, 64], found " + k);
            if (!(temperature >= 0)) throw new IllegalArgumentException("--temperature must be >= 0, found " + temperature);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], found " + topP);
            if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1, found " + maxTokens);
            if (concurrency < 1) throw new IllegalArgumentException("--concurrency must be >= 1, found " + concurrency);
            if (bootstrapResamples < 10) throw new IllegalArgumentException("bootstrap resamples must be >= 10, found " + bootstrapResamples);
        }

        public static Config greedy(int maxTokens) {
            return new Config(1, 0, 1, maxTokens, 0, null, 64, 1000);
        }
    }

    /** One metric with its interval. */
    public record Score(String name, Interval value) {}

    /**
     * @param scores     pass@k, maj@k, mean@k over all problems
     * @param breakdown  mean@k by "level=.." and "subject=.."
     */
    public record Summary(int problems, int samples, List<Score> scores, Map<String, EvalMetrics.Summary> breakdown,
                          Map<String, Integer> verdicts, double seconds, double samplesPerSecond) {
        /** mean@k, the accuracy a greedy (k = 1) evaluation reports. */
        public double accuracy() {
            for (Score s : scores) if (s.name().startsWith("mean@")) return s.value().estimate();
            throw new IllegalStateException("no mean@k");
        }

        /** mean@k of each level (the breakdown's "level=L"), by level name in sorted order. */
        public Map<String, Double> byLevel() {
            Map<String, Double> out = new java.util.TreeMap<>();
            breakdown.forEach((k, v) -> {
                if (k.startsWith("level=")) out.put(k.substring("level=".length()), v.mean());
            });
            return out;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PolicyClient client;
    private final Verifier verifier;
    private final Config config;

    public EvalRun(PolicyClient client, Verifier verifier, Config config) {
        this.client = client;
        this.verifier = verifier;
        this.config = config;
    }

    /**
     * Evaluates {@code prompts}; with {@code outDir} non-null, writes {@code samples.jsonl} (resumable) and
     * {@code summary.json} there. {@code progress} gets a one-line bar (null = silent).
     */
    public Summary run(List<Prompts.Prompt> prompts, Path outDir, PrintStream progress) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Map<String, List<JsonNode>> done = outDir == null ? new LinkedHashMap<>() : readDone(outDir.resolve("samples.jsonl"));
        BufferedWriter out = null;
        if (outDir != null) {
            Files.createDirectories(outDir);
            out = Files.newBufferedWriter(outDir.resolve("samples.jsonl"), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
        Map<String, ProblemSamples> results = new LinkedHashMap<>();
        Map<String, Integer> verdicts = new LinkedHashMap<>();
        Semaphore inFlight = new Semaphore(config.concurrency());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        int[] finished = {0};
        int resumed = 0;
        int context = client.contextLength();
        Object lock = new Object();
        final BufferedWriter writer = out;
        for (int i = 0; i < prompts.size(); i++) {
            Prompts.Prompt p = prompts.get(i);
            String id = p.problem().id();
            List<JsonNode> prior = done.get(id);
            if (prior != null && prior.size() >= config.k()) {
                synchronized (lock) {
                    results.put(id, fromRows(p, prior.subList(0, config.k()), verdicts));
                    finished[0]++;
                    resumed++;
                }
                continue;
            }
            int room = context - p.ids().length;
            if (room < 1) { // the prompt alone fills the context: every sample is recorded as unanswered, not an error
                List<JsonNode> rows = new ArrayList<>();
                for (int s = 0; s < config.k(); s++) rows.add(tooLong(p, s));
                synchronized (lock) {
                    if (writer != null) for (JsonNode r : rows) writer.write(r.toString() + "\n");
                    results.put(id, fromRows(p, rows, verdicts));
                    finished[0]++;
                }
                continue;
            }
            inFlight.acquire();
            long seed = config.seed() + i;
            var req = new PolicyClient.GenerateRequest(p.ids(), config.k(), config.temperature(), config.topP(), 0,
                    Math.min(config.maxTokens(), room), List.of(), seed, config.policyVersion(), false);
            all.add(client.generate(req).thenAccept(resp -> {
                List<JsonNode> rows = new ArrayList<>();
                for (PolicyClient.Completion c : resp.samples()) rows.add(row(p, c, verifier.verifyGold(p.problem().goldAnswer(), c.text())));
                synchronized (lock) {
                    try {
                        if (writer != null) {
                            for (JsonNode r : rows) writer.write(r.toString() + "\n");
                            writer.flush();
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    results.put(id, fromRows(p, rows, verdicts));
                    finished[0]++;
                    if (progress != null) bar(progress, finished[0], prompts.size(), t0);
                }
            }).whenComplete((v, t) -> inFlight.release()));
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } finally {
            if (writer != null) writer.close();
        }
        if (progress != null) {
            bar(progress, finished[0], prompts.size(), t0);
            progress.println(resumed > 0 ? "  (" + resumed + " problems resumed from samples.jsonl)" : "");
        }
        List<ProblemSamples> ordered = new ArrayList<>();
        for (Prompts.Prompt p : prompts) ordered.add(results.get(p.problem().id()));
        double seconds = (System.nanoTime() - t0) / 1e9;
        Summary s = summarise(ordered, verdicts, seconds, (long) (prompts.size() - resumed) * config.k());
        if (outDir != null) Files.writeString(outDir.resolve("summary.json"), toJson(s).toPrettyString() + "\n");
        return s;
    }

    private ObjectNode row(Prompts.Prompt p, PolicyClient.Completion c, Verdict v) {
        ObjectNode o = JSON.createObjectNode();
        o.put("problem_id", p.problem().id()).put("sample", c.index()).put("level", p.problem().level())
                .put("subject", p.problem().subject()).put("gold", p.problem().goldAnswer()).put("text", c.text())
                .put("extracted", v.pred()).put("verdict", v.status().name()).put("correct", v.correct())
                .put("verifier", v.version()).put("completion_tokens", c.tokenIds().length)
                .put("finish_reason", c.finishReason()).put("policy_version", c.policyVersions().length == 0 ? -1
                        : c.policyVersions()[c.policyVersions().length - 1]);
        return o;
    }

    /** A problem whose prompt does not fit the model's context: counted as wrong, marked so in the JSONL. */
    private static ObjectNode tooLong(Prompts.Prompt p, int sample) {
        ObjectNode o = JSON.createObjectNode();
        o.put("problem_id", p.problem().id()).put("sample", sample).put("level", p.problem().level())
                .put("subject", p.problem().subject()).put("gold", p.problem().goldAnswer()).put("text", "")
                .putNull("extracted").put("verdict", "PROMPT_TOO_LONG").put("correct", false)
                .put("verifier", Verifier.VERSION).put("completion_tokens", 0).put("finish_reason", "prompt_too_long")
                .put("prompt_tokens", p.ids().length);
        return o;
    }

    private static ProblemSamples fromRows(Prompts.Prompt p, List<JsonNode> rows, Map<String, Integer> verdicts) {
        List<JudgedSample> samples = new ArrayList<>();
        for (JsonNode r : rows) {
            String ans = r.path("extracted").isNull() ? null : r.path("extracted").asText(null);
            samples.add(new JudgedSample(ans, r.path("correct").asBoolean()));
            verdicts.merge(r.path("verdict").asText(), 1, Integer::sum);
        }
        return new ProblemSamples(p.problem().id(), p.problem().level(), p.problem().subject(), samples);
    }

    private static Map<String, List<JsonNode>> readDone(Path file) throws IOException {
        Map<String, List<JsonNode>> done = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) return done;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) continue;
            try {
                JsonNode n = JSON.readTree(l);
                done.computeIfAbsent(n.path("problem_id").asText(), k -> new ArrayList<>()).add(n);
            } catch (IOException e) {
                if (i != lines.size() - 1) throw new IOException(file + ": line " + (i + 1) + " is not valid JSON", e);
                // a torn last line: that problem is evaluated again
            }
        }
        return done;
    }

    private Summary summarise(List<ProblemSamples> ps, Map<String, Integer> verdicts, double seconds, long newSamples) {
        int k = config.k();
        List<Score> scores = new ArrayList<>();
        ToDoubleFunction<ProblemSamples> mean = p -> EvalMetrics.meanAtK(p, k);
        scores.add(new Score("pass@" + k, EvalMetrics.withInterval(ps, p -> EvalMetrics.passAtK(p, k), 0.95, config.bootstrapResamples(), config.seed())));
        scores.add(new Score("maj@" + k, EvalMetrics.withInterval(ps, p -> EvalMetrics.majAtK(p, k, a -> a), 0.95, config.bootstrapResamples(), config.seed())));
        scores.add(new Score("mean@" + k, EvalMetrics.withInterval(ps, mean, 0.95, config.bootstrapResamples(), config.seed())));
        Map<String, EvalMetrics.Summary> breakdown = new LinkedHashMap<>();
        EvalMetrics.byLevel(ps, mean).forEach((lvl, s) -> breakdown.put("level=" + lvl, s));
        EvalMetrics.bySubject(ps, mean).forEach((sub, s) -> breakdown.put("subject=" + sub, s));
        int samples = ps.stream().mapToInt(ProblemSamples::n).sum();
        return new Summary(ps.size(), samples, scores, breakdown, verdicts, seconds, newSamples / Math.max(seconds, 1e-9));
    }

    public static ObjectNode toJson(Summary s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("problems", s.problems()).put("samples", s.samples()).put("seconds", s.seconds())
                .put("samples_per_second", s.samplesPerSecond());
        ObjectNode m = o.putObject("metrics");
        for (Score sc : s.scores()) {
            m.putObject(sc.name()).put("estimate", sc.value().estimate()).put("ci_low", sc.value().lower())
                    .put("ci_high", sc.value().upper()).put("confidence", sc.value().confidence());
        }
        ObjectNode b = o.putObject("breakdown");
        s.breakdown().forEach((key, v) -> b.putObject(key).put("problems", v.problems()).put("mean", v.mean()));
        ObjectNode vd = o.putObject("verdicts");
        s.verdicts().forEach(vd::put);
        o.put("verifier", Verifier.VERSION);
        return o;
    }

    /** A readable table of the summary. */
    public static String table(Summary s) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-12s %8s   %s%n", "metric", "value", "95% CI"));
        for (Score sc : s.scores()) {
            b.append(String.format("%-12s %7.1f%%   [%.1f, %.1f]%n", sc.name(), 100 * sc.value().estimate(),
                    100 * sc.value().lower(), 100 * sc.value().upper()));
        }
        if (s.breakdown().size() > 1) {
            b.append(String.format("%n%-30s %8s %8s%n", "breakdown (mean@k)", "problems", "mean"));
            s.breakdown().forEach((k, v) -> {
                if (!k.endsWith(EvalMetrics.UNKNOWN)) b.append(String.format("%-30s %8d %7.1f%%%n", k, v.problems(), 100 * v.mean()));
            });
        }
        b.append(String.format("%nverdicts %s; %d problems, %d samples, %.1f s (%.1f samples/s)%n", s.verdicts(), s.problems(),
                s.samples(), s.seconds(), s.samplesPerSecond()));
        return b.toString();
    }

    private long lastBar;

    private void bar(PrintStream out, int done, int total, long t0) {
        long now = System.nanoTime();
        if (done < total && now - lastBar < 250_000_000L) return; // a few redraws a second at most
        lastBar = now;
        int width = 30, filled = total == 0 ? width : done * width / total;
        double s = (System.nanoTime() - t0) / 1e9;
        out.printf("\r[%s%s] %d/%d problems  %.0f s", "#".repeat(filled), ".".repeat(width - filled), done, total, s);
        out.flush();
    }

    /** Problem ids already complete in {@code outDir} (for callers that want to report a resume). */
    public static Set<String> completed(Path outDir, int k) throws IOException {
        Set<String> ids = new java.util.HashSet<>();
        readDone(outDir.resolve("samples.jsonl")).forEach((id, rows) -> { if (rows.size() >= k) ids.add(id); });
        return ids;
    }
}
