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
     * The demo's task and settings (BENCHMARKS.md, "The demo's task: demonstrations run out"). Worked solutions exist
     * for the step chains with one-digit operands (levels 6, 7: {@code 47+8-5}); levels 1 and 2 ({@code 47+38},
     * {@code 47+38-25}: the same working with two-digit operands) come with final answers only. The warm start trains
     * on the demonstrations until its smoothed loss is 0.03 (at most 1,500 steps; a target rather than a step count,
     * because the loss falls in a sudden drop whose step moves with the seed and the floating-point summation order),
     * then RL (asynchronous VACO, eta = 2) learns levels 1-2 from the verifier alone, and two controls get the same
     * training time: more supervised training on every demonstration there is, and rejection-sampling fine-tuning.
     * The RL learning rate stays small: Adam turns a sparse policy-gradient signal into full-size steps, and rates
     * above ~1e-4 drifted the tiny model away from its warm start (BENCHMARKS.md, "RL on the built-in task").
     */
    static final List<String> DEFAULTS = List.of(
            "sft.levels=6,7", "run.levels=1,2", "sft.steps=1500", "sft.target_loss=0.03", "sft.seed=0", "sft.lr=2e-3",
            "sft.batch_size=32", "sft.warmup_steps=30", "run.steps=400", "run.eval_every=20", "run.checkpoint_every=20",
            "run.eval_problems=600", "rollout.prompts_per_step=32", "rollout.group_size=8", "rollout.max_tokens=40",
            "rollout.max_staleness=2", "optim.lr=5e-5", "optim.warmup_steps=3", "optim.min_lr_ratio=1.0");

    /**
     * The task and settings of the demo before issue 17, still those of the lag experiments (lag-sweep,
     * time-to-accuracy; RESULTS.md): level-1 problems (two-digit sums and differences) with worked solutions for all of
     * them, an 800-step warm start with its own seed that leaves the model at about half correct, then VACO with eta = 2.
     */
    static final List<String> LEVEL_ONE = List.of(
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
        if (steps != null) o.add("run.steps=" + steps);
        o.add("dashboard.port=" + dashboardPort); // its URL is printed when the run starts
        o.addAll(overrides);
        TrainConfig cfg = ConfigLoader.load(o);
        TrainCommand.learnerThreads(cfg); // the warm start and the controls learn as the RL run's learner does
        int n = cfg.sft().demonstrations();
        System.out.printf("vaco demo: tiny Llama (%,d parameters) on synthetic %s: worked solutions for %s, "
                        + "final answers for levels %s; warm start (seed %d), then the same time each for asynchronous %s "
                        + "(eta = %d) and two controls (SFT, RFT); %.1f minutes in all; run directory %s%n",
                ModelInit.tinyConfig().parameterCount(), n > 0 ? "math" : "step chains",
                (n > 0 ? String.format("%,d problems of levels ", n) : "levels ") + (cfg.sft().levels().isEmpty() ? cfg.run().levels() : cfg.sft().levels()) + " only",
                cfg.run().levels(), cfg.sft().seedOr(seed),
                cfg.objective().name().toUpperCase(Locale.ROOT), cfg.rollout().maxStaleness(), minutes, out);
        try (GracefulStop ignored = GracefulStop.install()) {
            return demo(cfg, o, t0);
        }
    }

    /** Start-up, evaluations, the final model's export and the charts: kept out of the arms' shares of the budget. */
    static final double OVERHEAD_S = 50;

    private int demo(TrainConfig cfg, List<String> o, long t0) throws Exception {
        Path warm = out.resolve("warm-start");
        double secondsPerStep = DemoWarmStart.trainOrRead(cfg, warm, System.out);
        if (Double.isNaN(secondsPerStep)) {
            System.out.println("demo stopped during its warm start; nothing to resume");
            return GracefulStop.exitStatus();
        }
        // the rest of the budget in three equal shares: RL, then each control for the time RL actually trained
        double share = Math.max(20, (60 * minutes - (System.nanoTime() - t0) / 1e9 - OVERHEAD_S) / 3);
        List<String> rl = new ArrayList<>(o);
        rl.addAll(List.of("run.model=" + warm, "sft.steps=0", "sft.warmup_steps=0",
                "pipeline.max_minutes=" + String.format(Locale.ROOT, "%.2f", share / 60)));
        TrainConfig rlCfg = ConfigLoader.load(rl);
        RlTrainer.Result r = TrainCommand.run(rlCfg, warm, List.of(), null, resume);
        if (r.stopped()) {
            System.out.printf("demo stopped at RL step %d; `vaco demo --resume --out %s` continues it%n", r.steps(), out);
            return GracefulStop.exitStatus();
        }
        List<Charts.Series> series = Charts.read(out.resolve("metrics.jsonl"));
        System.out.println();
        System.out.print(Charts.terminal(series.get(0), 60, 8));
        System.out.print(Charts.terminal(series.get(1), 60, 6));
        Charts.svg(series, out.resolve("plot.svg"), String.format(Locale.ROOT,
                "vaco demo: held-out accuracy %.1f%% -> %.1f%% in %d RL steps", 100 * r.accuracyBefore(), 100 * r.accuracyAfter(), r.steps()));

        String name = cfg.objective().name().toUpperCase(Locale.ROOT) + " (RL, answer-only)";
        List<DemoArms.Arm> arms = new ArrayList<>(List.of(DemoArms.rl(name, out.resolve("metrics.jsonl"))));
        double budget = DemoArms.seconds(arms.get(0));
        System.out.printf("%ncontrols: %.1f minutes of training each from the same warm start%n", budget / 60);
        for (DemoArms.Arm c : DemoArms.controls(cfg, warm, budget, secondsPerStep, out, System.out)) {
            arms.add(new DemoArms.Arm(c.name().equals("sft") ? "SFT (all demonstrations)" : "RFT (verified samples)", c.curve()));
        }
        System.out.printf("%nheld-out greedy accuracy (%d problems per level), after the same training time from the warm start:%n",
                cfg.run().evalProblems() / levels(cfg.heldOutMix()).size());
        DemoArms.report(arms, levels(cfg.sftMix()), levels(cfg.run().levelMix()), out, System.out);
        System.out.printf("%.1f minutes in all%n", (System.nanoTime() - t0) / 6e10);
        System.out.println("plots: " + out.resolve("arms.svg") + " " + out.resolve("plot.svg") + "   metrics: "
                + out.resolve("metrics.jsonl") + " " + out.resolve("controls") + "   model: " + r.finalModel());
        return 0;
    }

    private static List<String> levels(dev.vaco.datasets.LevelMix mix) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < mix.weights().size(); i++) if (mix.weights().get(i) > 0) out.add(Integer.toString(i + 1));
        return out;
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
