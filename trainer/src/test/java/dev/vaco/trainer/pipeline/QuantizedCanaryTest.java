package dev.vaco.trainer.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.engine.Quantization;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The canaries against an int8 server: they compare the learner's fp32 log-probs with the quantized policy's at the
 * staged version, so the gap they see is the precision gap alone (no lag), recorded as {@code sync/canary_mean_abs};
 * pushes pass under {@code pipeline.canary_threshold_int8} where the fp32 threshold (1e-3) would refuse every one.
 */
class QuantizedCanaryTest {
    @TempDir Path dir;

    @Test
    void canariesCompareAtTheQuantizedPolicyWithItsOwnThreshold() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded loaded = ModelInit.initTiny(model, 1);
        Path run = dir.resolve("run");
        List<String> o = new ArrayList<>(List.of("run.out_dir=" + run, "run.steps=2", "run.eval_every=0",
                "run.checkpoint_every=0", "run.eval_problems=8", "sft.steps=3", "sft.warmup_steps=1", "sft.batch_size=4",
                "rollout.prompts_per_step=2", "rollout.group_size=4", "rollout.max_tokens=12", "optim.warmup_steps=0",
                "optim.lr=1e-3", "pipeline.canary_prompts=2", "rollout.max_staleness=0"));
        try (Server s = Server.start(model, loaded.config(), loaded.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(32, 256, 3, PolicyOptions.DEFAULT.withThreads(1).withQuantization(Quantization.INT8)));
             PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok")) {
            assertThat(c.quantization()).isEqualTo("int8");
            TrainConfig cfg = ConfigLoader.load(o);
            new RlTrainer(cfg, model, List.of(c), new PrintStream(new ByteArrayOutputStream(), true)).run(false);
            List<JsonNode> steps = RlTrainerTest.steps(run);
            assertThat(steps).hasSize(2);
            for (JsonNode j : steps) {
                double max = j.path("sync/canary_max_abs").asDouble(), mean = j.path("sync/canary_mean_abs").asDouble();
                System.out.printf("int8 canary: max %.2e mean %.2e%n", max, mean);
                // the quantized policy's log-probs, not the fp32 ones (which agree to < 1e-4 on an fp32 server)
                assertThat(max).isGreaterThan(1e-3).isLessThan(cfg.pipeline().canaryThresholdInt8());
                assertThat(mean).isPositive().isLessThanOrEqualTo(max);
                assertThat(j.has("sync/rolled_back")).isFalse();
            }
        }
    }
}
