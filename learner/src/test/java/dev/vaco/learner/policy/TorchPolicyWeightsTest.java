package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import dev.vaco.learner.optim.AdamW;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** (d) export / load round trips, tying, and the AdamW step. */
class TorchPolicyWeightsTest {

    @Test
    void exportThenLoadIsBitExact() {
        for (ModelConfig config : TorchTestModels.all()) {
            Weights original = TorchTestModels.random(config, 41);
            // Values that a sloppy copy would change: -0.0, subnormals, extremes.
            Tensor norm = original.get("model.norm.weight");
            norm.data().put(0, -0.0f).put(1, Float.MIN_VALUE).put(2, Float.MAX_VALUE).put(3, -Float.MIN_NORMAL);
            Weights other = TorchTestModels.random(config, 42);
            try (TorchPolicy policy = TorchPolicy.create(config, original)) {
                assertBitEqual(policy.exportWeights(), original);
                policy.loadWeights(other);                    // in place: the same arrays now hold other
                assertBitEqual(policy.exportWeights(), other);
                policy.loadWeights(original);
                assertBitEqual(policy.exportWeights(), original);
            }
        }
    }

    @Test
    void tiedModelHasOneEmbeddingParameterThatGetsBothGradients() {
        ModelConfig config = TorchTestModels.LLAMA_ODD_TIED;
        try (TorchPolicy policy = TorchPolicy.create(config, TorchTestModels.random(config, 43));
             NDManager m = DjlTestSupport.manager()) {
            assertThat(policy.parameters()).doesNotContainKey("lm_head.weight");
            assertThat(policy.exportWeights().names()).isEqualTo(config.tensorShapes().keySet());
            policy.zeroGradients();
            try (GradientCollector c = Engines.pytorch().newGradientCollector()) {
                // One token in, so the embedding use touches a single row; the lm_head use touches every row.
                NDArray lp = policy.tokenLogProbs(m.create(new int[][] {{3}}), m.create(new int[][] {{7}}));
                c.backward(lp.sum());
            }
            float[] g = policy.gradient("model.embed_tokens.weight", m).toFloatArray();
            int h = config.hiddenSize();
            for (int row : new int[] {0, 3, 7, config.vocabSize() - 1}) {
                double norm = 0;
                for (int i = 0; i < h; i++) norm += Math.abs(g[row * h + i]);
                assertThat(norm).as("row %d", row).isGreaterThan(0);
            }
        }
    }

    @Test
    void adamWStepsLowerTheLossAndZeroGradients() {
        ModelConfig config = ModelInit.tinyConfig();
        try (TorchPolicy policy = TorchPolicy.create(config, ModelInit.random(config, 44));
             NDManager m = DjlTestSupport.manager();
             AdamW adam = new AdamW(m, 0.9, 0.999, 1e-8, 0.01)) {
            int[][] seq = TorchTestModels.randomTokens(config.vocabSize(), 4, 17, 45);
            int[][] tokens = new int[4][16], targets = new int[4][16];
            for (int r = 0; r < 4; r++) {
                System.arraycopy(seq[r], 0, tokens[r], 0, 16);
                System.arraycopy(seq[r], 1, targets[r], 0, 16);
            }
            double first = 0, last = 0;
            for (int step = 0; step < 8; step++) {
                double loss;
                try (NDManager s = m.newSubManager(); GradientCollector c = Engines.pytorch().newGradientCollector()) {
                    NDArray l = policy.tokenLogProbs(s.create(tokens), s.create(targets)).mean().neg();
                    c.backward(l);
                    loss = l.getFloat();
                }
                adam.step(policy.parameters(), 3e-3);
                policy.zeroGradients();
                if (step == 0) first = loss;
                last = loss;
            }
            assertThat(adam.steps("model.norm.weight")).isEqualTo(8);
            assertThat(last).isLessThan(first - 0.5);
            float[] g = policy.gradient("model.layers.0.mlp.up_proj.weight", m).toFloatArray();
            for (float x : g) assertThat(x).isZero();
        }
    }

    static void assertBitEqual(Weights actual, Weights expected) {
        assertThat(actual.names()).containsExactlyElementsOf(expected.names());
        for (Tensor e : expected.tensors()) {
            Tensor a = actual.get(e.name());
            assertThat(a.shape()).isEqualTo(e.shape());
            float[] x = a.toArray(), y = e.toArray();
            for (int i = 0; i < y.length; i++) {
                if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                    throw new AssertionError(e.name() + "[" + i + "]: " + x[i] + " != " + y[i]);
                }
            }
        }
    }
}
