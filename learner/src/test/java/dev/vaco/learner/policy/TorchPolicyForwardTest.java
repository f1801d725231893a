package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.vaco.model.NaiveLlama;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Forward numerics against the plain-Java oracle ({@link NaiveLlama}), padding, temperature, shapes. */
class TorchPolicyForwardTest {

    static List<ModelConfig> configs() {
        return TorchTestModels.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchTheNaiveReference(ModelConfig config) {
        Weights weights = TorchTestModels.random(config, 11);
        NaiveLlama oracle = new NaiveLlama(config, NaiveLlama.toDouble(weights));
        int b = 3, t = 13, v = config.vocabSize();
        int[][] tokens = TorchTestModels.randomTokens(v, b, t, 5);
        try (TorchPolicy policy = TorchPolicy.create(config, weights); NDManager m = DjlTestSupport.manager()) {
            NDArray logits = policy.logits(m.create(tokens));
            assertThat(logits.getShape().getShape()).containsExactly(b, t, v);
            float[] flat = logits.toFloatArray();
            double worst = 0;
            for (int row = 0; row < b; row++) {
                worst = Math.max(worst, DjlTestSupport.maxAbsDiff(flat, t, v, row, oracle.logits(tokens[row])));
            }
            System.out.printf("logits vs naive reference, %s: max abs diff %.2e%n", describe(config), worst);
            assertThat(worst).isLessThan(1e-4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logProbsAtTemperatureMatchTheReference(ModelConfig config) {
        Weights weights = TorchTestModels.random(config, 12);
        NaiveLlama oracle = new NaiveLlama(config, NaiveLlama.toDouble(weights));
        int b = 2, t = 9, v = config.vocabSize();
        int[][] tokens = TorchTestModels.randomTokens(v, b, t, 6);
        int[][] targets = TorchTestModels.randomTokens(v, b, t, 7);
        float temperature = 0.7f;
        try (TorchPolicy policy = TorchPolicy.create(config, weights); NDManager m = DjlTestSupport.manager()) {
            float[] lp = policy.tokenLogProbs(m.create(tokens), m.create(targets), temperature).toFloatArray();
            NDArray both = policy.tokenLogProbsAndEntropy(m.create(tokens), m.create(targets), temperature); // [2, B, T]
            assertThat(both.get(0).toFloatArray()).containsExactly(lp);
            float[] ent = both.get(1).toFloatArray();
            for (int row = 0; row < b; row++) {
                double[][] logits = oracle.logits(tokens[row]);
                for (int p = 0; p < t; p++) {
                    double[] z = logits[p].clone();
                    for (int j = 0; j < v; j++) z[j] /= temperature;
                    double[] ls = NaiveLlama.logSoftmax(z);
                    double entropy = 0;
                    for (double l : ls) entropy -= Math.exp(l) * l;
                    assertThat((double) lp[row * t + p]).isCloseTo(ls[targets[row][p]], org.assertj.core.data.Offset.offset(1e-4));
                    assertThat((double) ent[row * t + p]).isCloseTo(entropy, org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }

    /** (c) A short row right-padded in a batch gets the log-probs it gets alone (and the oracle's). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void rightPaddingDoesNotChangeRealPositions(ModelConfig config) {
        Weights weights = TorchTestModels.random(config, 13);
        int v = config.vocabSize(), t = 12, shortLen = 5;
        int[][] batch = TorchTestModels.randomTokens(v, 3, t, 8);   // row 1 is the short one: its tail is junk padding
        int[][] targets = TorchTestModels.randomTokens(v, 3, t, 9);
        int[] alone = Arrays.copyOf(batch[1], shortLen);
        int[] aloneTargets = Arrays.copyOf(targets[1], shortLen);
        try (TorchPolicy policy = TorchPolicy.create(config, weights); NDManager m = DjlTestSupport.manager()) {
            float[] padded = policy.tokenLogProbs(m.create(batch), m.create(targets)).toFloatArray();
            float[] single = policy.tokenLogProbs(m.create(new int[][] {alone}), m.create(new int[][] {aloneTargets}))
                    .toFloatArray();
            // Different junk in the padding must not matter either.
            batch[1][shortLen] = (batch[1][shortLen] + 1) % v;
            batch[1][t - 1] = 0;
            float[] otherJunk = policy.tokenLogProbs(m.create(batch), m.create(targets)).toFloatArray();
            double[][] ref = new NaiveLlama(config, NaiveLlama.toDouble(weights)).logits(alone);
            for (int p = 0; p < shortLen; p++) {
                assertThat(padded[t + p]).isCloseTo(single[p], org.assertj.core.data.Offset.offset(1e-5f));
                assertThat(otherJunk[t + p]).isCloseTo(single[p], org.assertj.core.data.Offset.offset(1e-5f));
                assertThat((double) single[p]).isCloseTo(NaiveLlama.logSoftmax(ref[p])[aloneTargets[p]],
                        org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    @Test
    void resultsJoinTheCallersScopeAndIntermediatesAreReleased() {
        ModelConfig config = TorchTestModels.LLAMA_GQA;
        try (TorchPolicy policy = TorchPolicy.create(config, TorchTestModels.random(config, 1));
             NDManager m = DjlTestSupport.manager()) {
            NDArray tokens = m.create(TorchTestModels.randomTokens(config.vocabSize(), 2, 8, 1));
            int before = m.getManagedArrays().size();
            NDArray logits;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                logits = policy.logits(tokens);
                assertThat(m.getManagedArrays().size()).isEqualTo(before + 1); // only the result survives the call
            }
            assertThat(m.getManagedArrays().size()).isEqualTo(before);        // and the caller's scope closed it
            assertThatThrownBy(logits::toFloatArray).isInstanceOf(RuntimeException.class);
        }
    }

    @Test
    void rejectsBadArguments() {
        ModelConfig config = TorchTestModels.LLAMA_GQA;
        try (TorchPolicy policy = TorchPolicy.create(config, TorchTestModels.random(config, 1));
             NDManager m = DjlTestSupport.manager()) {
            NDArray tokens = m.create(new int[][] {{1, 2, 3}});
            assertThatThrownBy(() -> policy.tokenLogProbs(tokens, tokens, 0f)).hasMessageContaining("temperature");
            assertThatThrownBy(() -> policy.tokenLogProbs(tokens, m.create(new int[][] {{1, 2}})))
                    .hasMessageContaining("shape of tokens");
            assertThatThrownBy(() -> policy.logits(m.create(new int[] {1, 2}))).hasMessageContaining("[B, T]");
            assertThatThrownBy(() -> policy.logits(m.create(new int[1][config.maxPositionEmbeddings() + 1])))
                    .hasMessageContaining("max_position_embeddings");
            assertThatThrownBy(() -> TorchPolicy.create(TorchTestModels.QWEN2_GQA, TorchTestModels.random(config, 1)))
                    .hasMessageContaining("TorchPolicy.create");
        }
    }

    static String describe(ModelConfig c) {
        return c.modelType() + " H" + c.hiddenSize() + " NH" + c.numAttentionHeads() + "/KVH" + c.numKeyValueHeads()
                + " hd" + c.headDim() + (c.tieWordEmbeddings() ? " tied" : " untied") + " theta" + (long) c.ropeTheta();
    }
}
