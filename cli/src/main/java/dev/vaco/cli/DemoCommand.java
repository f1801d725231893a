package dev.vaco.cli;

import dev.vaco.model.ModelInit;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.RlTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The embedded default: build the tiny model, warm-start it on synthetic math, run asynchronous VACO "
                + "against an in-process inference server on loopback, and show held-out accuracy before and after.")
final class DemoCommand implements Callable<Integer> {
    /**
     * The demo's settings, chosen by measurement on the 2-core target (BENCHMARKS.md, "RL on the built-in task"):
     * level-1 problems (two-digit sums and differences), an 800-step warm start that leaves the model at about half
     * correct (a 400-step one, at a quarter, left RL too few groups with any correct sample), with its own fixed seed
     * ({@code sft.seed=0}: with seed 1 the same 800 steps reached 7.8%, the loss drop comes at a seed-dependent step),
     * so that {@code --seed} varies the RL run from one warm start as RL studies do, then RL with eta = 2 so
     * that generation and learning overlap. The RL learning rate is small on purpose:
     * Adam turns a sparse policy-gradient signal into full-size steps, and at 5e-4 the tiny model drifted away from
     * its warm start (reward 0.15 -> 0.04 in 30 steps) while 2e-5..5e-5 climbed.
     */
    static final List<String> DEFAULTS = List.of(
            "run.levels=1", "sft.steps=800", "sft.seed=0", "sft.lr=2e-3", "sft.batch_size=32", "sft.warmup_steps=30",
            "run.steps=400", "run.eval_every=20", "run.checkpoint_every=20", "run.eval_problems=500",
            "rollout.prompts_per_step=32", "rollout.group_size=8", "rollout.max_tokens=40", "rollout.max_staleness=2",
            "optim.lr=5e-5", "optim.warmup_steps=3", "optim.min_lr_ratio=1.0");

    @Option(names = "--minutes", defaultValue = "15", description = "Wall-clock budget of the whole demo (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--steps", description = "RL steps at most (default: as many as fit in --minutes, up to 400).")
    Integer steps;

    @Option(names = "--out", defaultValue = "runs/demo", description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the model, data and sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint.")
    boolean resume;

    @Option(names = "--dashboard-port", defaultValue = "0",
            description = "Port of the run's live page (dashboard.port; 0 = any free port, -1 = none; default: ${DEFAULT-VALUE}).")
    int dashboardPort;

    @Parameters(paramLabel = "KEY=VALUE", arity = "0..*", description = "Further overrides (see vaco train --print-config).")
    List<String> overrides = new ArrayList<>();

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        if (!(minutes > 1)) throw new IllegalArgumentException("--minutes must be > 1, found " + minutes);
        if (!resume && !spec.commandLine().getParseResult().hasMatchedOption("--out")) out = freeDirectory(out);
        List<String> o = new ArrayList<>(DEFAULTS);
        o.add("run.out_dir=" + out);
        o.add("run.seed=" + seed);
        // the run's budget counts the warm start; the rest covers start-up, the final evaluation and the charts
        o.add("pipeline.max_minutes=" + String.format(Locale.ROOT, "%.2f", Math.max(0.5, minutes - 0.75)));
        if (steps != null) o.add("run.steps=" + steps);
        o.add("dashboard.port=" + dashboardPort); // its URL is printed when the run starts
        o.addAll(overrides);
        TrainConfig cfg = ConfigLoader.load(o);
        Path modelDir = out.resolve("init-model");
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) ModelInit.initTiny(modelDir, cfg.sft().seedOr(seed));
        System.out.printf("vaco demo: tiny Llama (%,d parameters) on synthetic math, warm start %d steps (seed %d), then asynchronous %s "
                        + "(eta = %d) for up to %d steps or %.1f minutes; run directory %s%n",
                ModelInit.tinyConfig().parameterCount(), cfg.sft().steps(), cfg.sft().seedOr(seed), cfg.objective().name().toUpperCase(Locale.ROOT),
                cfg.rollout().maxStaleness(), cfg.run().steps(), cfg.pipeline().maxMinutes(), out);
        try (GracefulStop ignored = GracefulStop.install()) {
            return demo(cfg, modelDir, t0);
        }
    }

    private int demo(TrainConfig cfg, Path modelDir, long t0) throws Exception {
        RlTrainer.Result r = TrainCommand.run(cfg, modelDir, List.of(), null, resume);
        if (r.stopped()) {
            System.out.println(RlTrainer.holdsRun(out)
                    ? String.format("demo stopped at RL step %d; `vaco demo --resume --out %s` continues it", r.steps(), out)
                    : "demo stopped during its warm start; nothing to resume");
            return GracefulStop.exitStatus();
        }

        List<Charts.Series> series = Charts.read(out.resolve("metrics.jsonl"));
        System.out.println();
        System.out.print(Charts.terminal(series.get(0), 60, 8));
        System.out.print(Charts.terminal(series.get(1), 60, 6));
        Path svg = out.resolve("plot.svg");
        Charts.svg(series, svg, String.format(Locale.ROOT, "vaco demo: held-out accuracy %.1f%% -> %.1f%% in %d RL steps",
                100 * r.accuracyBefore(), 100 * r.accuracyAfter(), r.steps()));
        System.out.printf("%nheld-out greedy accuracy (%d problems): %.1f%% after the warm start -> %.1f%% after %d RL steps "
                        + "(%+.1f points); %.1f minutes in all%n", cfg.run().evalProblems(), 100 * r.accuracyBefore(),
                100 * r.accuracyAfter(), r.steps(), 100 * (r.accuracyAfter() - r.accuracyBefore()), (System.nanoTime() - t0) / 6e10);
        System.out.println("plot: " + svg + "   metrics: " + out.resolve("metrics.jsonl") + "   model: " + r.finalModel());
        return 0;
    }

    /**
     * The README's one command, run again, must neither overwrite the earlier demo nor fail: without an explicit --out
     * a directory that holds a run is kept and the demo writes to the first free sibling (runs/demo-2, ...).
     */
    static Path freeDirectory(Path wanted) throws java.io.IOException {
        Path dir = wanted;
        for (int i = 2; RlTrainer.holdsRun(dir); i++) dir = wanted.resolveSibling(wanted.getFileName() + "-" + i);
        if (!dir.equals(wanted)) System.out.printf("%s holds an earlier run (kept; `--resume` continues it); this one writes to %s%n", wanted, dir);
        return dir;
    }
}
