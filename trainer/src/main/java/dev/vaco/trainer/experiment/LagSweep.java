package dev.vaco.trainer.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.model.ModelDir;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.RlTrainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The policy-lag grid: objectives x backward lag k x forward lag u x seeds, every run starting from one shared
 * warm-start model with the same sample budget, each with rollouts pinned exactly k versions behind the learner
 * ({@code rollout.lag = k}) and u updates per batch.
 *
 * <p>Resumable and shareable: a run is claimed by creating {@code runs/<name>/claim} atomically, and is done when its
 * {@code report.json} exists; several processes can work through one grid, and a re-run skips what is done. The
 * results table aggregates whatever runs are complete.
 */
public final class LagSweep {
    /** One cell of the grid. */
    public record Cell(String objective, int lag, int updates, long seed) {
        String name() {
            return String.format(Locale.ROOT, "%s-k%d-u%d-s%d", objective, lag, updates, seed);
        }
    }

    /** What a run left behind: its final accuracy, the area under its accuracy curve, and mean telemetry. */
    public record RunResult(Cell cell, double finalAccuracy, double auc, double tv, double filtered, double consecutiveKl) {}

    private final Path out;
    private final Path warmStart;
    private final List<String> baseOverrides;
    /** Starts an inference server serving {@code warmStart} (an embedded one, from the CLI) and returns its client. */
    private final Function<Cell, ServerHandle> servers;

    /** A server for one run, closed when the run ends. */
    public interface ServerHandle extends AutoCloseable {
        PolicyClient client();

        @Override
        void close();
    }

    public LagSweep(Path out, Path warmStart, List<String> baseOverrides, Function<Cell, ServerHandle> servers) {
        this.out = out;
        this.warmStart = warmStart;
        this.baseOverrides = baseOverrides;
        this.servers = servers;
    }

    public static List<Cell> grid(List<String> objectives, List<Integer> lags, List<Integer> updates, List<Long> seeds) {
        List<Cell> cells = new ArrayList<>();
        for (String o : objectives) for (int k : lags) for (int u : updates) for (long s : seeds) cells.add(new Cell(o, k, u, s));
        return cells;
    }

    /** Runs every unclaimed, unfinished cell; returns how many this process ran. */
    public int run(List<Cell> cells, PrintStream log) throws Exception {
        ModelDir.config(warmStart); // fail early on a missing warm start
        int ran = 0;
        for (Cell c : cells) {
            Path dir = out.resolve("runs").resolve(c.name());
            if (Files.exists(dir.resolve("report.json"))) continue;
            Files.createDirectories(dir);
            try {
                Files.createFile(dir.resolve("claim"));
            } catch (FileAlreadyExistsException e) {
                continue; // another process has it (delete the claim of a run that died to re-run it)
            }
            List<String> o = new ArrayList<>(baseOverrides);
            o.addAll(List.of("run.out_dir=" + dir, "run.model=" + warmStart, "sft.steps=0", "sft.warmup_steps=0",
                    "objective.name=" + c.objective(), "rollout.lag=" + c.lag(), "rollout.max_staleness=" + c.lag(),
                    "rollout.updates_per_batch=" + c.updates(), "run.seed=" + c.seed()));
            TrainConfig cfg = ConfigLoader.load(o);
            log.printf("lag-sweep: %s%n", c.name());
            try (ServerHandle h = servers.apply(c)) {
                new RlTrainer(cfg, warmStart, List.of(h.client()), log).run(false);
            }
            ran++;
        }
        return ran;
    }

    /** Reads every finished run. */
    public List<RunResult> results(List<Cell> cells) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<RunResult> rs = new ArrayList<>();
        for (Cell c : cells) {
            Path dir = out.resolve("runs").resolve(c.name());
            if (!Files.exists(dir.resolve("report.json"))) continue;
            List<double[]> curve = new ArrayList<>();
            double tv = 0, filt = 0, kl = 0;
            int n = 0;
            for (String l : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
                JsonNode j = json.readTree(l);
                if (j.has("eval/accuracy")) curve.add(new double[] {j.path("step").asDouble(), j.path("eval/accuracy").asDouble()});
                if (j.has("reward/mean")) {
                    tv += j.path("vaco/tv_behaviour").asDouble(0);
                    filt += j.path("vaco/filtered_frac").asDouble(0);
                    kl += j.path("policy/consecutive_kl").asDouble(0);
                    n++;
                }
            }
            if (curve.isEmpty()) continue;
            rs.add(new RunResult(c, curve.get(curve.size() - 1)[1], auc(curve), tv / Math.max(1, n), filt / Math.max(1, n),
                    kl / Math.max(1, n)));
        }
        return rs;
    }

    /** Mean accuracy over the run: trapezoids over the evaluation curve divided by its span (1 point: that value). */
    static double auc(List<double[]> curve) {
        if (curve.size() == 1) return curve.get(0)[1];
        double area = 0;
        for (int i = 1; i < curve.size(); i++) {
            area += (curve.get(i)[0] - curve.get(i - 1)[0]) * (curve.get(i)[1] + curve.get(i - 1)[1]) / 2;
        }
        return area / (curve.get(curve.size() - 1)[0] - curve.get(0)[0]);
    }

    /** Markdown: one row per (objective, k, u) with mean and standard deviation over seeds. */
    public static String table(List<RunResult> rs) {
        Map<String, List<RunResult>> cells = new LinkedHashMap<>();
        for (RunResult r : rs) {
            cells.computeIfAbsent(r.cell().objective() + "|" + r.cell().lag() + "|" + r.cell().updates(), k -> new ArrayList<>()).add(r);
        }
        StringBuilder b = new StringBuilder("| objective | k | u | seeds | final accuracy | AUC | TV to behaviour | filtered | consecutive KL |\n");
        b.append("|---|---|---|---|---|---|---|---|---|\n");
        cells.forEach((key, list) -> {
            String[] p = key.split("\\|");
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %s | %s | %.4f | %.4f | %.2e |%n", p[0], p[1], p[2],
                    list.size(), meanStd(list, RunResult::finalAccuracy), meanStd(list, RunResult::auc),
                    list.stream().mapToDouble(RunResult::tv).average().orElse(0),
                    list.stream().mapToDouble(RunResult::filtered).average().orElse(0),
                    list.stream().mapToDouble(RunResult::consecutiveKl).average().orElse(0)));
        });
        return b.toString();
    }

    private static String meanStd(List<RunResult> list, java.util.function.ToDoubleFunction<RunResult> f) {
        double mean = list.stream().mapToDouble(f).average().orElse(0);
        double var = list.stream().mapToDouble(r -> Math.pow(f.applyAsDouble(r) - mean, 2)).sum() / Math.max(1, list.size() - 1);
        return String.format(Locale.ROOT, "%.1f%% ± %.1f", 100 * mean, 100 * Math.sqrt(var));
    }
}
