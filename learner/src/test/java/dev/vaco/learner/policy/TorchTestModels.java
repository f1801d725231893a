package dev.vaco.learner.policy;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small random configurations covering the architecture switches, and weights that make every path matter. Public for
 * the bench module's TrainBench (test-jar), which draws its batches with {@link #randomTokens}.
 */
public final class TorchTestModels {
    private TorchTestModels() {}

    // (type, V, H, I, L, NH, KVH, hd, eps, theta, maxPos, tied, attention_bias, bos, eos)
    /** GQA (here MQA), tied, odd sizes: hidden 72, 3 heads of 24. */
    static final ModelConfig LLAMA_ODD_TIED = new ModelConfig("llama", 53, 72, 100, 2, 3, 1, 24, 1e-5, 10000.0, 64,
            true, false, -1, 2);
    /** MHA, untied, attention_bias on q/k/v/o, rope theta 1e6. */
    static final ModelConfig LLAMA_MHA_BIAS = new ModelConfig("llama", 40, 32, 56, 2, 4, 4, 8, 1e-6, 1_000_000.0, 64,
            false, true, -1, -1);
    /** Qwen2: GQA 6/2, q/k/v bias, no o bias, untied, theta 1e6. */
    static final ModelConfig QWEN2_GQA = new ModelConfig("qwen2", 61, 48, 80, 2, 6, 2, 8, 1e-6, 1_000_000.0, 64,
            false, false, -1, -1);
    /** Qwen2 tied MHA with head_dim != hidden / heads (config.json's explicit head_dim). */
    static final ModelConfig QWEN2_TIED_HD = new ModelConfig("qwen2", 37, 40, 64, 1, 4, 4, 12, 1e-6, 10000.0, 64,
            true, false, -1, -1);
    /** Llama GQA 4/2 untied, theta 1e4. */
    static final ModelConfig LLAMA_GQA = new ModelConfig("llama", 45, 32, 48, 3, 4, 2, 8, 1e-5, 10000.0, 64,
            false, false, -1, -1);

    /** Llama 3.1 / 3.2's "llama3" rope scaling; theta 500 puts hd 8's four frequencies in all three bands. */
    static final ModelConfig LLAMA3_ROPE_SCALED = new ModelConfig("llama", 45, 32, 48, 2, 4, 2, 8, 1e-5, 500.0, 64,
            false, false, -1, -1, new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 32));

    static List<ModelConfig> all() {
        return List.of(LLAMA_ODD_TIED, LLAMA_MHA_BIAS, QWEN2_GQA, QWEN2_TIED_HD, LLAMA_GQA, LLAMA3_ROPE_SCALED);
    }

    /** Tiny configuration for finite differences (every gradient is a pair of oracle forwards). */
    static final ModelConfig GRAD_LLAMA = new ModelConfig("llama", 23, 16, 24, 2, 4, 2, 4, 1e-5, 10000.0, 32,
            true, true, -1, -1);
    static final ModelConfig GRAD_QWEN2 = new ModelConfig("qwen2", 19, 12, 20, 2, 2, 1, 6, 1e-6, 1_000_000.0, 32,
            false, false, -1, -1);

    /**
     * Weights with O(1) activations (matrices N(0, 1/in), embeddings N(0, 0.5^2)), norm weights 1 + N(0, 0.1^2),
     * non-zero biases N(0, 0.1^2): unlike ModelInit's HF init, every term of the forward is exercised.
     */
    static Weights random(ModelConfig config, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (var e : config.tensorShapes().entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            SplittableRandom r = root.split();
            float[] d = new float[(int) Tensor.numel(shape)];
            for (int i = 0; i < d.length; i++) {
                double g = gaussian(r);
                if (name.endsWith("norm.weight")) d[i] = (float) (1 + 0.1 * g);
                else if (name.endsWith(".bias")) d[i] = (float) (0.1 * g);
                else if (name.equals("model.embed_tokens.weight")) d[i] = (float) (0.5 * g);
                else d[i] = (float) (g / Math.sqrt(shape[1]));
            }
            m.put(name, Tensor.of(name, shape, d));
        }
        return Weights.validated(config, m, "test weights");
    }

    public static int[][] randomTokens(int vocab, int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] t = new int[rows][cols];
        for (int[] row : t) for (int i = 0; i < cols; i++) row[i] = r.nextInt(vocab);
        return t;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
