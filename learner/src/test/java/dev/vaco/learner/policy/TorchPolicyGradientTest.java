package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.vaco.model.NaiveLlama;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * (b) Autograd gradients against central finite differences of the double-precision oracle, and (e) the GC
 * tripwire for DJL's use-after-free.
 */
class TorchPolicyGradientTest {
    /** |djl - fd| <= ABS + REL * |fd|: fp32 forward/backward against a double oracle (h = 1e-5, error ~1e-10). */
    static final double ABS = 1e-4, REL = 1e-3, H = 1e-5;

    static List<ModelConfig> configs() {
        return List.of(TorchTestModels.GRAD_LLAMA, TorchTestModels.GRAD_QWEN2);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void gradientsMatchFiniteDifferences(ModelConfig config) {
        Weights weights = TorchTestModels.random(config, 21);
        int v = config.vocabSize(), b = 2, t = 6;
        int[][] tokens = TorchTestModels.randomTokens(v, b, t, 22);
        int[][] targets = TorchTestModels.randomTokens(v, b, t, 23);
        boolean[][] select = new boolean[b][t];
        float[] maskData = new float[b * t];
        for (int i = 0; i < b * t; i++) {
            select[i / t][i % t] = i % 5 != 3; // a few positions excluded, as a loss mask would
            maskData[i] = select[i / t][i % t] ? 1f : 0f;
        }
        float temperature = config.modelType().equals("qwen2") ? 0.8f : 1f;
        Map<String, double[]> w = NaiveLlama.toDouble(weights);
        List<String> names = new ArrayList<>(List.of("model.embed_tokens.weight",
                "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                "model.layers.0.input_layernorm.weight", "model.layers.1.mlp.gate_proj.weight",
                "model.layers.0.mlp.down_proj.weight", "model.norm.weight"));
        if (config.qkvBias()) names.add("model.layers.0.self_attn.k_proj.bias");
        if (config.oBias()) names.add("model.layers.1.self_attn.o_proj.bias");
        if (!config.tieWordEmbeddings()) names.add("lm_head.weight");

        try (TorchPolicy policy = TorchPolicy.create(config, weights); NDManager m = DjlTestSupport.manager()) {
            policy.zeroGradients();
            try (GradientCollector collector = Engines.pytorch().newGradientCollector(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray mask = NativeArrays.floats(m, maskData, new Shape(b, t));
                NDArray lp = policy.tokenLogProbs(m.create(tokens), m.create(targets), temperature); // [B, T]
                collector.backward(lp.mul(mask).sum());
            }
            SplittableRandom r = new SplittableRandom(24);
            double worstAbs = 0;
            for (String name : names) {
                float[] grad = policy.gradient(name, m).toFloatArray();
                double[] param = w.get(name);
                for (int probe = 0; probe < 4; probe++) {
                    int i = name.equals("model.embed_tokens.weight") && probe < 2
                            ? tokens[0][probe] * config.hiddenSize() + r.nextInt(config.hiddenSize()) // rows in use
                            : r.nextInt(param.length);
                    double fd = finiteDifference(config, w, param, i, tokens, targets, select, temperature);
                    double diff = Math.abs(grad[i] - fd);
                    worstAbs = Math.max(worstAbs, diff);
                    assertThat(diff).as("%s[%d]: autograd %g vs finite difference %g", name, i, grad[i], fd)
                            .isLessThanOrEqualTo(ABS + REL * Math.abs(fd));
                }
            }
            System.out.printf("gradients vs finite differences, %s: max abs diff %.2e%n",
                    TorchPolicyForwardTest.describe(config), worstAbs);
        }
    }

    private static double finiteDifference(ModelConfig config, Map<String, double[]> w, double[] param, int i,
                                           int[][] tokens, int[][] targets, boolean[][] select, float temperature) {
        double saved = param[i];
        param[i] = saved + H;
        double plus = sumLogProbs(config, w, tokens, targets, select, temperature);
        param[i] = saved - H;
        double minus = sumLogProbs(config, w, tokens, targets, select, temperature);
        param[i] = saved;
        return (plus - minus) / (2 * H);
    }

    private static double sumLogProbs(ModelConfig config, Map<String, double[]> w, int[][] tokens, int[][] targets,
                                      boolean[][] select, float temperature) {
        NaiveLlama oracle = new NaiveLlama(config, w);
        double sum = 0;
        for (int row = 0; row < tokens.length; row++) {
            double[][] logits = oracle.logits(tokens[row]);
            for (int p = 0; p < tokens[row].length; p++) {
                if (!select[row][p]) continue;
                double[] z = logits[p].clone();
                for (int j = 0; j < z.length; j++) z[j] /= temperature;
                sum += NaiveLlama.logSoftmax(z)[targets[row][p]];
            }
        }
        return sum;
    }

    /**
     * (e) DJL wraps Java buffers without copying; if anything autograd saves is Java-backed, a GC between forward and
     * backward frees it and gradients turn NaN or silently wrong (engine notes). Forcing GCs, and closing the caller's
     * input arrays before backward, must give gradients bit-identical to an undisturbed run.
     */
    @Test
    void gradientsAreIdenticalWithForcedGcBetweenForwardAndBackward() throws InterruptedException {
        ModelConfig config = TorchTestModels.LLAMA_ODD_TIED;
        Weights weights = TorchTestModels.random(config, 31);
        try (TorchPolicy policy = TorchPolicy.create(config, weights)) {
            for (int step = 0; step < 5; step++) {
                int[][] tokens = TorchTestModels.randomTokens(config.vocabSize(), 4, 16, 100 + step);
                int[][] targets = TorchTestModels.randomTokens(config.vocabSize(), 4, 16, 200 + step);
                Map<String, float[]> calm = gradients(policy, tokens, targets, false);
                Map<String, float[]> disturbed = gradients(policy, tokens, targets, true);
                for (String name : calm.keySet()) {
                    float[] a = calm.get(name), d = disturbed.get(name);
                    for (float x : d) assertThat(Float.isFinite(x)).as("%s finite (step %d)", name, step).isTrue();
                    assertThat(d).as("%s (step %d)", name, step).containsExactly(a);
                }
            }
        }
    }

    private static Map<String, float[]> gradients(TorchPolicy policy, int[][] tokens, int[][] targets, boolean gc)
            throws InterruptedException {
        policy.zeroGradients();
        try (NDManager m = DjlTestSupport.manager();
             GradientCollector collector = Engines.pytorch().newGradientCollector()) {
            NDArray loss;
            try (NDManager inputs = DjlTestSupport.manager()) {
                NDArray lp = policy.tokenLogProbs(inputs.create(tokens), inputs.create(targets), 0.9f);
                loss = lp.mean().neg();
                loss.attach(m);
            } // the Java-backed token/target arrays are closed here, before backward
            if (gc) {
                for (int i = 0; i < 3; i++) {
                    byte[][] garbage = new byte[64][];
                    for (int j = 0; j < garbage.length; j++) garbage[j] = new byte[1 << 16];
                    System.gc();
                    Thread.sleep(30);
                }
            }
            collector.backward(loss);
        }
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        try (NDManager m = DjlTestSupport.manager()) {
            for (String name : policy.parameters().keySet()) out.put(name, policy.gradient(name, m).toFloatArray());
        }
        return out;
    }
}
