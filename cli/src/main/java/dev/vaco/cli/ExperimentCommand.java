package dev.vaco.cli;

import ai.djl.ndarray.NDManager;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.experiment.LagSweep;
import dev.vaco.trainer.model.Engines;
import dev.vaco.trainer.model.TorchPolicy;
import dev.vaco.trainer.pipeline.DataCursor;
import dev.vaco.trainer.sft.WarmStart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;

@Command(name = "experiment", mixinStandardHelpOptions = true, description = "Experiments on the built-in task.",
        subcommands = {ExperimentCommand.LagSweepCommand.class})
final class ExperimentCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "lag-sweep", mixinStandardHelpOptions = true,
            description = "Objectives x backward lag k x forward lag u x seeds from one shared warm start, each run with "
                    + "rollouts exactly k versions behind the learner; resumable, shareable by several processes; writes results.md.")
    static final class LagSweepCommand implements Callable<Integer> {
        @Option(names = "--out", defaultValue = "runs/lag-sweep", description = "Experiment directory (default: ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--objectives", defaultValue = "vaco,ppo_clip,grpo,decoupled_ppo,tis_reinforce", split = ",")
        List<String> objectives;

        @Option(names = "--lags", defaultValue = "0,2,4", split = ",", description = "Backward lags k (default: ${DEFAULT-VALUE}).")
        List<Integer> lags;

        @Option(names = "--updates", defaultValue = "1", split = ",", description = "Updates per batch u (default: ${DEFAULT-VALUE}).")
        List<Integer> updates;

        @Option(names = "--seeds", defaultValue = "0,1,2", split = ",", description = "Seeds (default: ${DEFAULT-VALUE}).")
        List<Long> seeds;

        @Option(names = "--full", description = "The full grid: k in {0,1,2,4,8}, u in {1,4}.")
        boolean full;

        @Parameters(paramLabel = "KEY=VALUE", arity = "0..*", description = "Overrides for every run (e.g. run.steps=60).")
        List<String> overrides = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            if (full) {
                lags = List.of(0, 1, 2, 4, 8);
                updates = List.of(1, 4);
            }
            List<String> base = new ArrayList<>(DemoCommand.DEFAULTS);
            base.addAll(List.of("run.steps=60", "run.eval_every=10", "run.checkpoint_every=0"));
            base.addAll(overrides);
            Path warm = out.resolve("warm-start");
            if (!Files.isRegularFile(warm.resolve(ModelDir.WEIGHTS))) warmStart(ConfigLoader.load(base), warm);
            ModelDir.Loaded m = ModelDir.load(warm);
            int keep = lags.stream().mapToInt(Integer::intValue).max().orElse(0) + 3;
            LagSweep sweep = new LagSweep(out, warm, base, cell -> {
                String token = UUID.randomUUID().toString();
                Server s = Server.start(warm, m.config(), m.weights(), 0, new InferenceServer.Settings("127.0.0.1", 0, "sweep",
                        token, 1L << 31), new GenerationEngine.Options(128, 4096, keep, PolicyOptions.DEFAULT.withThreads(1)));
                PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), token);
                return new LagSweep.ServerHandle() {
                    public PolicyClient client() { return c; }

                    public void close() {
                        c.close();
                        s.close();
                    }
                };
            });
            List<LagSweep.Cell> grid = LagSweep.grid(objectives, lags, updates, seeds);
            int ran = sweep.run(grid, System.out);
            var results = sweep.results(grid);
            String table = LagSweep.table(results);
            Files.writeString(out.resolve("results.md"), "# Lag sweep\n\n" + results.size() + " of " + grid.size()
                    + " runs finished.\n\n" + table);
            System.out.printf("%d runs this process, %d of %d finished; %s%n%s", ran, results.size(), grid.size(),
                    out.resolve("results.md"), table);
            return 0;
        }

        /** The one warm start every run of the grid begins from (the demo's, on the same task). */
        private static void warmStart(TrainConfig cfg, Path dir) throws Exception {
            Path init = dir.resolveSibling("init-model");
            if (!Files.isRegularFile(init.resolve(ModelDir.CONFIG))) ModelInit.initTiny(init, cfg.run().seed());
            ModelDir.Loaded m = ModelDir.load(init);
            try (Tokenizer tok = Tokenizer.load(init);
                 NDManager root = Engines.pytorch().newBaseManager();
                 TorchPolicy policy = TorchPolicy.create(m.config(), m.weights())) {
                DataCursor data = new DataCursor("synthetic", cfg.run().seed(), cfg.run().levelMix());
                Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
                WarmStart.run(policy, root, cfg.sft(), cfg.optim(), data.train(), prompts, System.out::println);
                ModelDir.save(dir, m.config(), policy.exportWeights());
                ModelDir.copyTokenizer(init, dir);
            }
        }
    }
}
