package dev.vaco.trainer.experiment;

import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.pipeline.RlTrainer;
import dev.vaco.trainer.StopRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A 4-run grid on the tiny model, each run with its own real server on loopback. */
class LagSweepTest {
    @TempDir Path dir;

    static final List<String> BASE = List.of("run.steps=3", "run.eval_every=0", "run.checkpoint_every=0",
            "run.eval_problems=8", "rollout.prompts_per_step=2", "rollout.group_size=4", "rollout.max_tokens=8",
            "optim.warmup_steps=0", "pipeline.canary_prompts=1");

    private static LagSweep.ServerHandle server(Path warm, ModelDir.Loaded m, LagSweep.Cell cell) {
        Server s = Server.start(warm, m.config(), m.weights(), 0, new InferenceServer.Settings("127.0.0.1", 0, "tiny", "t", 1L << 30),
                new EngineOptions(16, 64, cell.lag() + 3, PolicyOptions.DEFAULT.withThreads(1)));
        PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "t");
        return new LagSweep.ServerHandle() {
            public PolicyClient client() { return c; }

            public void close() {
                c.close();
                s.close();
            }
        };
    }

    @Test
    void aStopMidSweepReleasesItsCellWhichTheNextRunRedoesFromScratch() throws Exception {
        Path warm = dir.resolve("warm");
        ModelDir.Loaded m = ModelInit.initTiny(warm, 3);
        LagSweep sweep = new LagSweep(dir.resolve("sweep"), warm, BASE, cell -> server(warm, m, cell));
        List<LagSweep.Cell> grid = LagSweep.grid(List.of("vaco"), List.of(0, 1), List.of(1), List.of(0L));
        Path first = dir.resolve("sweep/runs/vaco-k0-u1-s0"), metrics = first.resolve("metrics.jsonl");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        Thread signal = new Thread(() -> { // as the signal handler would, once the first cell has trained one step
            try {
                while (!Files.exists(metrics) || Files.readAllLines(metrics).stream().noneMatch(l -> l.contains("reward/mean"))) {
                    Thread.sleep(10);
                }
                StopRequest.request();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        signal.start();
        int ran;
        try {
            ran = sweep.run(grid, quiet);
        } finally {
            signal.join();
            StopRequest.clear();
        }
        assertThat(ran).isZero();
        assertThat(first.resolve("claim")).as("released for the next run").doesNotExist();
        assertThat(first.resolve("report.json")).doesNotExist();
        assertThat(RlTrainer.holdsRun(first)).isTrue();
        assertThat(dir.resolve("sweep/runs/vaco-k1-u1-s0")).as("the sweep stopped there").doesNotExist();

        assertThat(sweep.run(grid, quiet)).isEqualTo(2);
        // started over, not appended to: exactly the run's 3 steps
        assertThat(Files.readAllLines(metrics).stream().filter(l -> l.contains("reward/mean")).count()).isEqualTo(3);
        assertThat(sweep.results(grid)).hasSize(2);
    }

    @Test
    void runsEveryCellOnceResumesAndTabulates() throws Exception {
        Path warm = dir.resolve("warm");
        ModelDir.Loaded m = ModelInit.initTiny(warm, 3);
        List<String> base = BASE;
        LagSweep sweep = new LagSweep(dir.resolve("sweep"), warm, base, cell -> server(warm, m, cell));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        assertThatThrownBy(() -> sweep.run(LagSweep.grid(List.of("vaco", "vaco:objective.detla=0.1"), List.of(0), List.of(1),
                List.of(0L)), quiet)).as("a bad label fails before any run").hasMessageContaining("detla");
        assertThat(dir.resolve("sweep/runs/vaco-k0-u1-s0")).doesNotExist();
        List<LagSweep.Cell> grid = LagSweep.grid(List.of("vaco", "ppo_clip:objective.eps=0.1"), List.of(0, 1), List.of(1), List.of(0L));
        assertThat(sweep.run(grid, quiet)).isEqualTo(4);
        assertThat(sweep.run(grid, quiet)).as("a re-run skips finished cells").isZero();
        List<String> otherLr = new java.util.ArrayList<>(base);
        otherLr.add("optim.lr=0.5");
        LagSweep changed = new LagSweep(dir.resolve("sweep"), warm, otherLr, c -> null);
        assertThatThrownBy(() -> changed.run(grid, quiet)).as("finished runs are not reused under another configuration")
                .hasMessageContaining("optim.lr");
        List<LagSweep.RunResult> results = sweep.results(grid);
        assertThat(results).hasSize(4);
        String table = LagSweep.table(results);
        assertThat(table).contains("| vaco | 1 | 1 | 1 |").contains("| ppo_clip:objective.eps=0.1 | 0 | 1 | 1 |");
        assertThat(Files.readString(dir.resolve("sweep/runs/ppo_clip+objective.eps=0.1-k1-u1-s0/config.json")))
                .contains("\"eps\" : 0.1").contains("\"name\" : \"ppo_clip\"");
        LagSweep.writeReport(dir.resolve("sweep/results"), results, grid.size(), "test");
        String md = Files.readString(dir.resolve("sweep/results/results.md"));
        assertThat(md).contains("4 of 4 runs finished").contains("| vaco | 1 | 1 |").contains("| ppo_clip:objective.eps=0.1 | 8 | 0 | 1 |");
        for (String svg : List.of("accuracy-vs-k.svg", "auc-vs-k.svg", "tv-vs-k.svg", "filtered-vs-k.svg")) {
            assertThat(Files.readString(dir.resolve("sweep/results").resolve(svg))).startsWith("<svg").contains("polyline");
        }
        // (a 3-step run at the default learning rate may move the policy too little for a KL above float noise)
        assertThat(Files.readString(dir.resolve("sweep/results/consecutive-kl.svg"))).startsWith("<svg").endsWith("</svg>\n");
        // the injected lag is exact: at k = 1 every step after the first trains on tokens one version old
        List<String> lines = Files.readAllLines(dir.resolve("sweep/runs/vaco-k1-u1-s0/metrics.jsonl"));
        assertThat(lines.stream().filter(l -> l.contains("\"lag/max\":1.0")).count()).isEqualTo(2);
        // and the learner measures how far that lag carried it from the behaviour policy
        assertThat(lines.stream().filter(l -> l.contains("\"lag/max\":1.0")).allMatch(l -> !l.contains("\"lag/tv\":0.0,")))
                .isTrue();
    }

    @Test
    void areaUnderTheCurveIsTheMeanAccuracyOverSteps() {
        assertThat(LagSweep.auc(List.of(new double[] {0, 0.2}, new double[] {10, 0.4}, new double[] {20, 0.4})))
                .isCloseTo(0.35, org.assertj.core.api.Assertions.within(1e-12));
    }
}
