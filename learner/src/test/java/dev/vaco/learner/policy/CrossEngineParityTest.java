package dev.vaco.learner.policy;

import ai.djl.ndarray.NDManager;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fact everything stands on: the inference engine (ONNX Runtime, graph built in Java) and the training engine
 * (DJL / libtorch) compute the same policy from the same weights. Logits on the same tokens agree within 1e-4 max
 * abs (fp32), for a full pass and for KV-cached decoding, on random configurations covering every switch.
 */
class CrossEngineParityTest {
    /** Every test configuration whose head_dim ONNX Runtime's attention kernel takes (a multiple of 8). */
    static List<ModelConfig> configs() {
        List<ModelConfig> c = new ArrayList<>();
        for (ModelConfig m : TorchTestModels.all()) if (m.headDim() % 8 == 0) c.add(m);
        c.add(ModelInit.tinyConfig());
        return c;
    }

    @org.junit.jupiter.api.Test
    void aHeadDimOrtCannotRunIsRefusedUpFrontWithTheReason() {
        ModelConfig c = TorchTestModels.QWEN2_TIED_HD; // head_dim 12
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OrtPolicy.create(c, TorchTestModels.random(c, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("head_dim 12");
    }

    @ParameterizedTest
    @MethodSource("configs")
    void ortAndDjlGiveTheSameLogits(ModelConfig config) {
        Weights w = TorchTestModels.random(config, 31);
        int t = Math.min(40, config.maxPositionEmbeddings());
        int[][] tokens = TorchTestModels.randomTokens(config.vocabSize(), 3, t, 32);
        try (OrtPolicy ort = OrtPolicy.create(config, w);
             TorchPolicy djl = TorchPolicy.create(config, w);
             NDManager m = Engines.pytorch().newBaseManager()) {
            float[] torch = djl.logits(m.create(tokens)).toFloatArray(); // [3, T, V]
            int v = config.vocabSize();
            double worstFull = 0, worstDecode = 0;
            for (int row = 0; row < tokens.length; row++) {
                float[][] full = ort.logits(tokens[row]); // [T][V]
                for (int i = 0; i < t; i++) {
                    for (int k = 0; k < v; k++) {
                        worstFull = Math.max(worstFull, Math.abs(full[i][k] - torch[(row * t + i) * v + k]));
                    }
                }
                // KV-cached: prefill half, then one token at a time, against DJL's full pass
                KvCache cache = ort.newCache(1, t);
                int half = t / 2;
                float[] last = ort.prefill(cache, 0, java.util.Arrays.copyOf(tokens[row], half));
                for (int i = half; i <= t; i++) {
                    int pos = i - 1;
                    for (int k = 0; k < v; k++) {
                        worstDecode = Math.max(worstDecode, Math.abs(last[k] - torch[(row * t + pos) * v + k]));
                    }
                    if (i < t) last = ort.decode(cache, new int[] {tokens[row][i]})[0];
                }
            }
            assertThat(worstFull).as("full pass, max |ORT - DJL|").isLessThan(1e-4);
            assertThat(worstDecode).as("cached decoding, max |ORT - DJL|").isLessThan(1e-4);
        }
    }
}
