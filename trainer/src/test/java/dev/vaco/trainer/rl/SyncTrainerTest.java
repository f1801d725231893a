package dev.vaco.trainer.rl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The whole synchronous loop on the tiny model: real server on loopback, real verifier, real DJL learner. */
class SyncTrainerTest {
    @TempDir Path dir;

    private static List<String> overrides(Path run, int steps) {
        return List.of("run.out_dir=" + run, "run.steps=" + steps, "run.eval_every=0", "run.checkpoint_every=1",
                "run.eval_problems=8", "sft.steps=3", "sft.warmup_steps=1", "sft.batch_size=4", "rollout.prompts_per_step=2",
                "rollout.group_size=4", "rollout.max_tokens=12", "optim.warmup_steps=0", "optim.lr=1e-3");
    }

    @Test
    void theLoopTrainsPushesWeightsWritesTelemetryAndResumes() throws Exception {
        Path model = dir.resolve("model"), run = dir.resolve("run");
        ModelInit.initTiny(model, 1);
        var m = ModelDir.load(model);
        try (Server server = Server.start(model, m.config(), m.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new GenerationEngine.Options(32, 64, 3, PolicyOptions.DEFAULT));
             PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + server.port()), "tok")) {
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            TrainConfig cfg = ConfigLoader.load(overrides(run, 2));
            SyncTrainer.Result r = new SyncTrainer(cfg, model, client, new PrintStream(log, true)).run(false);
            assertThat(r.steps()).isEqualTo(2);
            // version 1 = the warm start, then one per step
            assertThat(server.engine().liveVersion()).isEqualTo(3);
            List<JsonNode> lines = lines(run.resolve("metrics.jsonl"));
            List<JsonNode> steps = lines.stream().filter(j -> j.has("reward/mean")).toList();
            assertThat(steps).hasSize(2);
            for (JsonNode s : steps) {
                assertThat(s.path("train/responses").asDouble()).isEqualTo(8);
                assertThat(s.path("lag/max").asDouble()).isZero(); // synchronous: every token sampled by the learner's version
                // the server's behaviour log-probs and the learner's recomputation agree (same weights, two engines)
                assertThat(s.path("mismatch/kl_k3").asDouble()).isCloseTo(0, within(1e-6));
                assertThat(s.path("optim/applied").asDouble()).isEqualTo(1);
            }
            assertThat(lines.stream().filter(j -> j.has("eval/accuracy")).count()).isEqualTo(2); // before and after
            assertThat(Checkpoint.latest(run).getFileName().toString()).isEqualTo("step-2");
            assertThat(ModelDir.load(r.finalModel()).config()).isEqualTo(m.config());

            // resume: one more step from the step-2 checkpoint, no warm start again
            ByteArrayOutputStream log2 = new ByteArrayOutputStream();
            SyncTrainer.Result r2 = new SyncTrainer(ConfigLoader.load(overrides(run, 3)), model, client,
                    new PrintStream(log2, true)).run(true);
            assertThat(r2.steps()).isEqualTo(3);
            assertThat(log2.toString()).contains("resumed from").doesNotContain("warm start");
            assertThat(lines(run.resolve("metrics.jsonl")).stream().filter(j -> j.has("reward/mean")).count()).isEqualTo(3);
            Checkpoint.State s = Checkpoint.readState(Checkpoint.latest(run));
            assertThat(s.step()).isEqualTo(3);
            assertThat(s.extra().path("data_cursor").asLong()).isEqualTo(3 * 4 + 3 * 2); // sft 3x4, rl 3x2 problems
        }
    }

    private static List<JsonNode> lines(Path f) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(f)) if (!l.isBlank()) out.add(json.readTree(l));
        return out;
    }
}
