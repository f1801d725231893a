package dev.vaco.trainer.experiment;

import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A 4-run grid on the tiny model, each run with its own real server on loopback. */
class LagSweepTest {
    @TempDir Path dir;

    @Test
    void runsEveryCellOnceResumesAndTabulates() throws Exception {
        Path warm = dir.resolve("warm");
        ModelDir.Loaded m = ModelInit.initTiny(warm, 3);
        LagSweep sweep = new LagSweep(dir.resolve("sweep"), warm, List.of("run.steps=3", "run.eval_every=0",
                "run.checkpoint_every=0", "run.eval_problems=8", "rollout.prompts_per_step=2", "rollout.group_size=4",
                "rollout.max_tokens=8", "optim.warmup_steps=0", "pipeline.canary_prompts=1"), cell -> {
                    Server s = Server.start(warm, m.config(), m.weights(), 0,
                            new InferenceServer.Settings("127.0.0.1", 0, "tiny", "t", 1L << 30),
                            new GenerationEngine.Options(16, 64, cell.lag() + 3, PolicyOptions.DEFAULT.withThreads(1)));
                    PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "t");
                    return new LagSweep.ServerHandle() {
                        public PolicyClient client() { return c; }

                        public void close() {
                            c.close();
                            s.close();
                        }
                    };
                });
        List<LagSweep.Cell> grid = LagSweep.grid(List.of("vaco", "ppo_clip"), List.of(0, 1), List.of(1), List.of(0L));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        assertThat(sweep.run(grid, quiet)).isEqualTo(4);
        assertThat(sweep.run(grid, quiet)).as("a re-run skips finished cells").isZero();
        List<LagSweep.RunResult> results = sweep.results(grid);
        assertThat(results).hasSize(4);
        String table = LagSweep.table(results);
        assertThat(table).contains("| vaco | 1 | 1 | 1 |").contains("| ppo_clip | 0 | 1 | 1 |");
        // the injected lag is exact: at k = 1 every step after the first trains on tokens one version old
        List<String> lines = Files.readAllLines(dir.resolve("sweep/runs/vaco-k1-u1-s0/metrics.jsonl"));
        assertThat(lines.stream().filter(l -> l.contains("\"lag/max\":1.0")).count()).isEqualTo(2);
    }

    @Test
    void areaUnderTheCurveIsTheMeanAccuracyOverSteps() {
        assertThat(LagSweep.auc(List.of(new double[] {0, 0.2}, new double[] {10, 0.4}, new double[] {20, 0.4})))
                .isCloseTo(0.35, org.assertj.core.api.Assertions.within(1e-12));
    }
}
