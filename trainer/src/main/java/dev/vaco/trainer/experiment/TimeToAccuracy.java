package dev.vaco.trainer.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.learner.Checkpoint;
import dev.vaco.model.ModelDir;
import dev.vaco.trainer.StopRequest;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.RlTrainer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Wall-clock time from the warm start to a fixed held-out accuracy, asynchronous (eta > 0) against synchronous
 * (eta = 0), same seeds and warm starts. Resumable: a run is done when its {@code time-to-accuracy.json} exists; the
 * table in {@code results.md} is rebuilt from those files on every call.
 */
public final class TimeToAccuracy {
    /**
     * What to measure.
     *
     * @param out          experiment directory
     * @param etas         staleness bounds ({@code rollout.max_staleness})
     * @param seeds        seeds, each run at every eta
     * @param target       held-out greedy accuracy to reach
     * @param maxMinutes   a run gives up after this long
     * @param warmStart    warm-start model directory per seed, {@code {seed}} replaced; null: trained here per warm-start seed
     * @param demoDefaults the demo's configuration, the task every run starts from
     * @param overrides    overrides for every run
     */
    public record Settings(Path out, List<Integer> etas, List<Long> seeds, double target, double maxMinutes,
                           String warmStart, List<String> demoDefaults, List<String> overrides) {}

    /** Trains one configuration from a warm-start model directory (from the CLI: with embedded servers). */
    @FunctionalInterface
    public interface Runner {
        RlTrainer.Result run(TrainConfig cfg, Path model) throws Exception;
    }

    private final Settings s;
    private final Runner runner;
    private final PrintStream log;
    private final ObjectMapper json = new ObjectMapper();

    public TimeToAccuracy(Settings s, Runner runner, PrintStream log) {
        this.s = s;
        this.runner = runner;
        this.log = log;
    }

    /** Measures every (seed, eta) without a result yet, then writes and prints results.md; false if stopped on request. */
    public boolean run() throws Exception {
        List<String> base = new ArrayList<>(s.demoDefaults());
        base.addAll(List.of("run.eval_every=5", "run.checkpoint_every=0", "sft.steps=0", "sft.warmup_steps=0",
                "run.target_accuracy=" + s.target(), "pipeline.max_minutes=" + s.maxMinutes()));
        base.addAll(s.overrides());
        StringBuilder table = new StringBuilder("| seed | eta | warm start | reached | steps | seconds to target | speed-up vs eta 0 |\n|---|---|---|---|---|---|---|\n");
        Map<Integer, List<Double>> speedups = new TreeMap<>();
        for (long seed : s.seeds()) {
            Path warm = warmStart(seed);
            if (warm == null) return false;
            Double sync = null;
            for (int eta : s.etas()) {
                Path dir = s.out().resolve("runs").resolve("eta" + eta + "-s" + seed);
                Path result = dir.resolve("time-to-accuracy.json");
                if (!Files.isRegularFile(result) && !measure(base, seed, eta, warm, dir, result)) return false;
                sync = row(json.readTree(result.toFile()), seed, eta, sync, table, speedups);
            }
        }
        String md = String.format(Locale.ROOT, "# Time to %.0f%% held-out accuracy%n%n%s%nSpeed-up of asynchronous over synchronous "
                + "(time at eta = 0 / time at eta):%n%n%s", 100 * s.target(), table, summary(speedups));
        Files.createDirectories(s.out());
        Files.writeString(s.out().resolve("results.md"), md);
        log.print(md);
        return true;
    }

    /** The warm-start model of {@code seed}: given, or trained here; null when a stop request ended its training. */
    private Path warmStart(long seed) throws Exception {
        if (s.warmStart() != null) return Path.of(s.warmStart().replace("{seed}", Long.toString(seed)));
        List<String> w = new ArrayList<>(s.demoDefaults());
        w.addAll(s.overrides());
        w.add("run.seed=" + seed);
        TrainConfig cfg = ConfigLoader.load(w);
        // one directory per warm-start seed: with the demo's fixed sft.seed every seed shares one
        Path warm = s.out().resolve("warm-start-s" + cfg.sft().seedOr(seed));
        if (!Files.isRegularFile(warm.resolve(ModelDir.WEIGHTS))) SharedWarmStart.train(cfg, warm, log);
        return StopRequest.requested() ? null : warm;
    }

    /** One timed run, its result written to {@code result}; false when a stop request ended it. */
    private boolean measure(List<String> base, long seed, int eta, Path warm, Path dir, Path result) throws Exception {
        List<String> o = new ArrayList<>(base);
        o.addAll(List.of("run.out_dir=" + dir, "run.model=" + warm, "run.seed=" + seed, "rollout.max_staleness=" + eta));
        log.printf("time-to-accuracy: seed %d, eta %d%n", seed, eta);
        // a run without its result was interrupted: a timing restarts from scratch, never resumes
        if (RlTrainer.holdsRun(dir)) Checkpoint.deleteTree(dir);
        RlTrainer.Result r = runner.run(ConfigLoader.load(o), warm);
        if (r.stopped()) return false;
        double rlStart = r.curve().get(0)[2];
        Double seconds = null;
        for (double[] p : r.curve()) {
            if (p[1] >= s.target()) {
                seconds = p[2] - rlStart;
                break;
            }
        }
        var node = json.createObjectNode().put("seed", seed).put("eta", eta).put("target", s.target())
                .put("accuracy_before", r.accuracyBefore()).put("accuracy_after", r.accuracyAfter())
                .put("steps", r.steps()).put("reached", seconds != null)
                .put("seconds", seconds != null ? seconds : r.curve().get(r.curve().size() - 1)[2] - rlStart);
        Files.writeString(result, node.toPrettyString());
        return true;
    }

    /** Appends one run's table row; returns the synchronous (eta = 0) time of this seed, the speed-ups' reference. */
    private static Double row(JsonNode j, long seed, int eta, Double sync, StringBuilder table,
                              Map<Integer, List<Double>> speedups) {
        double secs = j.path("seconds").asDouble();
        boolean reached = j.path("reached").asBoolean();
        if (eta == 0 && reached) sync = secs;
        String ratio = "";
        if (eta > 0 && sync != null && reached) {
            ratio = String.format(Locale.ROOT, "%.2fx", sync / secs);
            speedups.computeIfAbsent(eta, k -> new ArrayList<>()).add(sync / secs);
        }
        table.append(String.format(Locale.ROOT, "| %d | %d | %.1f%% | %s | %d | %s%.0f | %s |%n", seed, eta,
                100 * j.path("accuracy_before").asDouble(), reached ? "yes" : "no (" + String.format(Locale.ROOT,
                        "%.1f%%", 100 * j.path("accuracy_after").asDouble()) + ")", j.path("steps").asInt(),
                reached ? "" : ">", secs, ratio));
        return sync;
    }

    private static String summary(Map<Integer, List<Double>> speedups) {
        StringBuilder summary = new StringBuilder();
        speedups.forEach((eta, l) -> summary.append(String.format(Locale.ROOT, "- eta = %d: %.2fx (mean over %d seeds; %s)%n",
                eta, l.stream().mapToDouble(Double::doubleValue).average().orElse(0), l.size(),
                l.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).collect(Collectors.joining(", ")))));
        return summary.toString();
    }
}
