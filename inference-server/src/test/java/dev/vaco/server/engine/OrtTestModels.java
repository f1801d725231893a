package dev.vaco.server.engine;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.SplittableRandom;

/** Small random configs covering the graph's branches, and weights with O(1) activations. */
final class OrtTestModels {
    private OrtTestModels() {}

    /** GQA, tied, llama, theta 1e4. */
    static final ModelConfig GQA_TIED = new ModelConfig("llama", 53, 64, 96, 2, 4, 2, 16, 1e-5, 10000.0, 64, true, false, -1, 1);
    /** MHA, untied, llama with attention_bias (q,k,v,o bias), odd sizes (hidden 72, 3 heads of 24), theta 5e5. */
    static final ModelConfig MHA_BIAS_ODD = new ModelConfig("llama", 61, 72, 100, 2, 3, 3, 24, 1e-6, 500000.0, 64, false, true, -1, 1);
    /** Qwen2 (q,k,v bias, no o bias), GQA 6/2, untied, theta 1e6. */
    static final ModelConfig QWEN2 = new ModelConfig("qwen2", 71, 96, 160, 3, 6, 2, 16, 1e-6, 1000000.0, 64, false, false, -1, 1);
    /** Multi-query (1 kv head) with head_dim != hidden/heads (4 x 16 = 64 != 48), tied. */
    static final ModelConfig MQA_WIDE_HEADS = new ModelConfig("llama", 40, 48, 80, 2, 4, 1, 16, 1e-5, 10000.0, 64, true, false, -1, 1);

    /**
     * Llama 3.1 / 3.2's "llama3" rope scaling (factor 8, low/high frequency factors 1/4, original context 32): with hd
     * 16 and theta 1e4 the frequencies fall in all three bands (kept, interpolated, divided by the factor).
     */
    static final ModelConfig LLAMA3_ROPE_SCALED = new ModelConfig("llama", 47, 64, 96, 2, 4, 2, 16, 1e-5, 10000.0, 64, true,
            false, -1, 1, new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 32));

    static List<ModelConfig> all() {
        return List.of(GQA_TIED, MHA_BIAS_ODD, QWEN2, MQA_WIDE_HEADS, LLAMA3_ROPE_SCALED, ModelInit.tinyConfig());
    }

    /**
     * {@link ModelInit#random} rescaled so that the test sees every parameter: matrices ~ N(0, 1/fan_in), embedding
     * ~ N(0, 0.3^2) (also the tied lm_head, so logits stay O(1-10)), norm weights 1 + N(0, 0.2), biases N(0, 0.1).
     * With HF's 0.02 init, norms of ones and zero biases, a wrong norm weight or bias would go unnoticed.
     */
    static Weights weights(ModelConfig c, long seed) {
        Weights w = ModelInit.random(c, seed);
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (Tensor t : w.tensors()) {
            FloatBuffer d = t.data();
            String n = t.name();
            if (n.endsWith("norm.weight")) {
                for (int i = 0; i < d.capacity(); i++) d.put(i, (float) (1 + 0.2 * gaussian(r)));
            } else if (n.endsWith(".bias")) {
                for (int i = 0; i < d.capacity(); i++) d.put(i, (float) (0.1 * gaussian(r)));
            } else {
                double scale = n.equals("model.embed_tokens.weight") ? 0.3 / 0.02 : 1 / (0.02 * Math.sqrt(t.shape()[1]));
                for (int i = 0; i < d.capacity(); i++) d.put(i, (float) (d.get(i) * scale));
            }
        }
        return w;
    }

    static int[] tokens(ModelConfig c, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(c.vocabSize());
        return t;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
