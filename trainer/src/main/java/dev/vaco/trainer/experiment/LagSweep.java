package dev.vaco.trainer.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.model.ModelDir;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.RlTrainer;
import dev.vaco.learner.Checkpoint;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The policy-lag grid: objectives x backward lag k x forward lag u x seeds, every run starting from one shared
 * warm-start model with the same sample budget, each with rollouts pinned exactly k versions behind the learner
 * ({@code rollout.lag = k}) and u updates per batch.
 *
 * <p>Resumable and shareable: a run is claimed by creating {@code runs/<name>/claim} atomically, and is done when its
 * {@code report.json} exists; several processes can work through one grid, and a re-run skips what is done. The
 * results table aggregates whatever runs are complete.
 *
 * <p>A cell's objective may carry configuration overrides after a colon, {@code ;}-separated, so that switches and
 * batch sizes are cells of the same grid: {@code vaco:objective.tv_anchor=learner-start},
 * {@code ppo_clip:rollout.prompts_per_step=8}.
 */
public final class LagSweep {
    /** One cell of the grid; {@code label} is an objective name, optionally followed by {@code :key=value;...}. */
    public record Cell(String label, int lag, int updates, long seed) {
        public String objective() {
            int c = label.indexOf(':');
            return c < 0 ? label : label.substring(0, c);
        }

        /** The label's overrides as {@code key=value} strings. */
        List<String> overrides() {
            int c = label.indexOf(':');
            return c < 0 ? List.of() : List.of(label.substring(c + 1).split(";"));
        }

        String name() {
            return String.format(Locale.ROOT, "%s-k%d-u%d-s%d", label.replace(':', '+').replace(';', '+'), lag, updates, seed);
        }
    }

    /**
     * What a run left behind: final held-out accuracy, the area under its accuracy curve (mean accuracy over steps),
     * and the mean over steps of: TV between behaviour and learner ({@code lag/tv}), VACO's filtered share, PPO's
     * clipped share and the consecutive-policy KL; {@code klCurve} is the KL per step, {@code batch} the responses per
     * step.
     */
    public record RunResult(Cell cell, double finalAccuracy, double auc, double tv, double filtered, double clipped,
                            double consecutiveKl, List<double[]> klCurve, int batch) {}

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

    /** The overrides of one cell's run, validated: a typo in a label fails before any run starts. */
    TrainConfig config(Cell c) {
        List<String> o = new ArrayList<>(baseOverrides);
        Path dir = out.resolve("runs").resolve(c.name());
        o.addAll(List.of("run.out_dir=" + dir, "run.model=" + warmStart, "sft.steps=0", "sft.warmup_steps=0",
                "objective.name=" + c.objective(), "rollout.lag=" + c.lag(), "rollout.max_staleness=" + c.lag(),
                "rollout.updates_per_batch=" + c.updates(), "run.seed=" + c.seed()));
        o.addAll(c.overrides());
        return ConfigLoader.load(o);
    }

    /** Runs every unclaimed, unfinished cell; returns how many this process ran. */
    public int run(List<Cell> cells, PrintStream log) throws Exception {
        ModelDir.config(warmStart); // fail early on a missing warm start
        for (Cell c : cells) config(c);
        for (Cell c : cells) checkFinished(c);
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
            log.printf("lag-sweep: %s%n", c.name());
            if (RlTrainer.holdsRun(dir)) {
                // an earlier process died or was stopped in this cell (and its claim was deleted): an injected-lag run
                // cannot resume exactly (the versions its rollouts are pinned to are no longer resident), so it restarts
                log.printf("lag-sweep: %s: clearing an unfinished run%n", c.name());
                try (var entries = Files.list(dir)) {
                    for (Path x : entries.toList()) if (!x.getFileName().toString().equals("claim")) Checkpoint.deleteTree(x);
                }
            }
            RlTrainer.Result r;
            try (ServerHandle h = servers.apply(c)) {
                r = new RlTrainer(config(c), warmStart, List.of(h.client()), log).run(false);
            }
            if (r.stopped()) {
                Files.deleteIfExists(dir.resolve("claim")); // the next run of the sweep takes this cell again
                log.printf("lag-sweep: stopped in %s; that cell starts again on the next run%n", c.name());
                return ran;
            }
            ran++;
        }
        return ran;
    }

    /**
     * A finished run is reused only if it ran with exactly the configuration this grid would give it now: a changed
     * default (or override) must not slip old runs into a new table under the same name.
     */
    private void checkFinished(Cell c) throws IOException {
        Path dir = out.resolve("runs").resolve(c.name());
        if (!Files.exists(dir.resolve("report.json"))) return;
        ObjectMapper json = new ObjectMapper();
        // read through the loader: a key added since that run ran gets its default, as the run effectively had
        JsonNode had = json.readTree(ConfigLoader.toJson(ConfigLoader.load(dir.resolve("config.json"), List.of())));
        JsonNode now = json.readTree(ConfigLoader.toJson(config(c)));
        if (!had.equals(now)) {
            throw new IllegalStateException("run " + dir + " finished with another configuration than this grid gives it ("
                    + firstDifference(had, now, "") + "): pass the overrides it ran with, or use another --out");
        }
    }

    private static String firstDifference(JsonNode a, JsonNode b, String path) {
        if (a.isObject() && b.isObject()) {
            for (var it = b.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!b.get(f).equals(a.get(f))) {
                    return a.has(f) ? firstDifference(a.get(f), b.get(f), path.isEmpty() ? f : path + "." + f) : path + "." + f + " missing";
                }
            }
        }
        return path + ": " + a + " then, " + b + " now";
    }

    /** Reads every finished run. */
    public List<RunResult> results(List<Cell> cells) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<RunResult> rs = new ArrayList<>();
        for (Cell c : cells) {
            Path dir = out.resolve("runs").resolve(c.name());
            if (!Files.exists(dir.resolve("report.json"))) continue;
            List<double[]> curve = new ArrayList<>(), kl = new ArrayList<>();
            double tv = 0, filt = 0, clip = 0;
            for (String l : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
                JsonNode j = json.readTree(l);
                if (j.has("eval/accuracy")) curve.add(new double[] {j.path("step").asDouble(), j.path("eval/accuracy").asDouble()});
                if (j.has("reward/mean")) {
                    tv += j.path("lag/tv").asDouble(0);
                    filt += j.path("vaco/filtered_frac").asDouble(0);
                    clip += j.path("ppo/clip_frac").asDouble(0);
                    kl.add(new double[] {j.path("step").asDouble(), j.path("policy/consecutive_kl").asDouble(0)});
                }
            }
            if (curve.isEmpty()) continue;
            JsonNode cfg = json.readTree(dir.resolve("config.json").toFile()).path("rollout");
            int n = Math.max(1, kl.size());
            rs.add(new RunResult(c, curve.get(curve.size() - 1)[1], auc(curve), tv / n, filt / n, clip / n,
                    kl.stream().mapToDouble(p -> p[1]).sum() / n, kl,
                    cfg.path("prompts_per_step").asInt() * cfg.path("group_size").asInt()));
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

    /** Runs grouped by (label, k, u), in grid order. */
    private static Map<String, List<RunResult>> byCell(List<RunResult> rs) {
        Map<String, List<RunResult>> cells = new LinkedHashMap<>();
        for (RunResult r : rs) cells.computeIfAbsent(key(r.cell().label(), r.cell().lag(), r.cell().updates()), k -> new ArrayList<>()).add(r);
        return cells;
    }

    private static String key(String label, int lag, int updates) {
        return label + "|" + lag + "|" + updates;
    }

    /** Markdown: one row per (objective, k, u) with mean and standard deviation over seeds. */
    public static String table(List<RunResult> rs) {
        StringBuilder b = new StringBuilder("| objective | k | u | seeds | final accuracy | AUC | TV behaviour-learner | filtered | clipped | consecutive KL |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|\n");
        byCell(rs).forEach((key, list) -> {
            String[] p = key.split("\\|");
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %s | %s | %.4f | %.4f | %.4f | %.2e |%n", p[0], p[1], p[2],
                    list.size(), meanStd(list, RunResult::finalAccuracy), meanStd(list, RunResult::auc),
                    mean(list, RunResult::tv), mean(list, RunResult::filtered), mean(list, RunResult::clipped),
                    mean(list, RunResult::consecutiveKl)));
        });
        return b.toString();
    }

    /**
     * Markdown: how much of its lag-0 accuracy each objective keeps at each k > 0 (same label and u), as the
     * difference of seed means with its standard error {@code sqrt(s_k^2 / n_k + s_0^2 / n_0)}.
     */
    public static String retention(List<RunResult> rs) {
        Map<String, List<RunResult>> cells = byCell(rs);
        StringBuilder b = new StringBuilder("| objective | u | k | final accuracy - lag 0 (points) | AUC - lag 0 (points) |\n|---|---|---|---|---|\n");
        cells.forEach((key, list) -> {
            Cell c = list.get(0).cell();
            List<RunResult> zero = cells.get(key(c.label(), 0, c.updates()));
            if (c.lag() == 0 || zero == null) return;
            b.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s |%n", c.label(), c.updates(), c.lag(),
                    diff(list, zero, RunResult::finalAccuracy), diff(list, zero, RunResult::auc)));
        });
        return b.toString();
    }

    /**
     * Markdown: the consecutive-policy KL per update in the first and the last third of the runs' steps, by cell label
     * and batch size (responses per step): the fixed-point diagnostic (PPO-Clip with parallel data settles where the
     * KL between consecutive policies stops shrinking; larger batches should settle lower).
     */
    public static String klTrend(List<RunResult> rs) {
        Map<String, List<RunResult>> groups = new TreeMap<>();
        for (RunResult r : rs) groups.computeIfAbsent(r.cell().label() + "|" + r.batch() + "|" + r.cell().lag(), k -> new ArrayList<>()).add(r);
        StringBuilder b = new StringBuilder("| objective | batch (responses) | k | runs | KL first third | KL last third | last / first |\n|---|---|---|---|---|---|---|\n");
        groups.forEach((key, list) -> {
            String[] p = key.split("\\|");
            double first = list.stream().mapToDouble(r -> third(r.klCurve(), 0)).average().orElse(0);
            double last = list.stream().mapToDouble(r -> third(r.klCurve(), 2)).average().orElse(0);
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.2e | %.2e | %.2f |%n", p[0], p[1], p[2], list.size(),
                    first, last, first > 0 ? last / first : Double.NaN));
        });
        return b.toString();
    }

    private static double third(List<double[]> curve, int which) {
        int n = curve.size(), from = which * n / 3, to = Math.max(from + 1, (which + 1) * n / 3);
        return curve.subList(Math.min(from, n - 1), Math.min(to, n)).stream().mapToDouble(p -> p[1]).average().orElse(0);
    }

    /** Writes {@code results.md} and its plots into {@code dir}. */
    public static void writeReport(Path dir, List<RunResult> rs, int gridSize, String command) throws IOException {
        Files.createDirectories(dir);
        Map<String, List<RunResult>> cells = byCell(rs);
        Set<String> labels = new LinkedHashSet<>();
        Set<Integer> lags = new TreeSet<>(), updates = new TreeSet<>();
        for (RunResult r : rs) {
            labels.add(r.cell().label());
            lags.add(r.cell().lag());
            updates.add(r.cell().updates());
        }
        SvgChart acc = new SvgChart("final held-out accuracy against backward lag k (mean ± sd over seeds)", "k", "accuracy", false);
        SvgChart auc = new SvgChart("area under the accuracy curve against k", "k", "mean accuracy over the run", false);
        SvgChart tv = new SvgChart("TV between behaviour and learner policy against k", "k", "mean TV", false);
        SvgChart share = new SvgChart("share of tokens filtered (VACO) or clipped (PPO-style) against k", "k", "share of tokens", false);
        SvgChart kl = new SvgChart("consecutive-policy KL per update (mean over seeds, 5-step moving average)", "step",
                "KL(pi_T || pi_T+1)", true);
        boolean first = true;
        for (String label : labels) {
            for (int u : updates) {
                String name = updates.size() > 1 ? label + " u=" + u : label;
                for (int k : lags) {
                    List<RunResult> list = cells.get(key(label, k, u));
                    if (list == null) continue;
                    acc.add(name, k, mean(list, RunResult::finalAccuracy), std(list, RunResult::finalAccuracy));
                    auc.add(name, k, mean(list, RunResult::auc), std(list, RunResult::auc));
                    tv.add(name, k, mean(list, RunResult::tv), std(list, RunResult::tv));
                    boolean vaco = list.get(0).cell().objective().equals("vaco");
                    share.add(name + (vaco ? " filtered" : " clipped"), k, mean(list, vaco ? RunResult::filtered : RunResult::clipped), 0);
                }
                // every objective at its largest k, and one lag-0 curve (at k = 0 and u = 1 the objectives coincide)
                int kMax = lags.stream().filter(k -> cells.containsKey(key(label, k, u))).max(Integer::compare).orElse(0);
                for (int k : first ? new TreeSet<>(List.of(0, kMax)) : new TreeSet<>(List.of(kMax))) {
                    List<RunResult> list = cells.get(key(label, k, u));
                    if (list == null) continue;
                    int steps = list.stream().mapToInt(r -> r.klCurve().size()).min().orElse(0);
                    for (int i = 0; i < steps; i++) {
                        int from = Math.max(0, i - 4), to = i;
                        double sum = 0;
                        for (RunResult r : list) for (int j = from; j <= to; j++) sum += r.klCurve().get(j)[1];
                        kl.add(name + " k=" + k, list.get(0).klCurve().get(i)[0], sum / (list.size() * (to - from + 1)), 0);
                    }
                }
                first = false;
            }
        }
        Files.writeString(dir.resolve("accuracy-vs-k.svg"), acc.render(760, 360));
        Files.writeString(dir.resolve("auc-vs-k.svg"), auc.render(760, 360));
        Files.writeString(dir.resolve("tv-vs-k.svg"), tv.render(760, 360));
        Files.writeString(dir.resolve("filtered-vs-k.svg"), share.render(760, 360));
        Files.writeString(dir.resolve("consecutive-kl.svg"), kl.render(760, 400));
        String md = "# Lag sweep\n\n" + rs.size() + " of " + gridSize + " runs finished. Command: `" + command + "`\n\n"
                + "## Per cell (mean ± sd over seeds)\n\n" + table(rs)
                + "\n## Lag-0 accuracy kept at each k\n\n" + retention(rs)
                + "\n## Consecutive-policy KL, early against late\n\n" + klTrend(rs)
                + "\n![accuracy against k](accuracy-vs-k.svg)\n![AUC against k](auc-vs-k.svg)\n![TV against k](tv-vs-k.svg)\n"
                + "![filtered and clipped share against k](filtered-vs-k.svg)\n![consecutive KL](consecutive-kl.svg)\n";
        Files.writeString(dir.resolve("results.md"), md);
    }

    private static double mean(List<RunResult> list, ToDoubleFunction<RunResult> f) {
        return list.stream().mapToDouble(f).average().orElse(0);
    }

    /** Sample standard deviation (0 for one run). */
    private static double std(List<RunResult> list, ToDoubleFunction<RunResult> f) {
        double m = mean(list, f);
        return list.size() < 2 ? 0 : Math.sqrt(list.stream().mapToDouble(r -> Math.pow(f.applyAsDouble(r) - m, 2)).sum() / (list.size() - 1));
    }

    private static String meanStd(List<RunResult> list, ToDoubleFunction<RunResult> f) {
        return String.format(Locale.ROOT, "%.1f%% ± %.1f", 100 * mean(list, f), 100 * std(list, f));
    }

    private static String diff(List<RunResult> a, List<RunResult> b, ToDoubleFunction<RunResult> f) {
        double se = Math.sqrt(Math.pow(std(a, f), 2) / a.size() + Math.pow(std(b, f), 2) / b.size());
        return String.format(Locale.ROOT, "%+.1f ± %.1f", 100 * (mean(a, f) - mean(b, f)), 100 * se);
    }
}
