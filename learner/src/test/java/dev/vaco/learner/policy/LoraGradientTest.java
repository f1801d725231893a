package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.NaiveLlama;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LoRA's gradients against oracles that share no code with the adapted forward pass: for one layer, the formulas
 * written as plain loops; for the whole policy, central finite differences of the double-precision oracle
 * ({@code NaiveLlama}) on the merged weights {@code W + scaling B A}. The base receives no gradient at all.
 */
class LoraGradientTest {
    static final double ABS = 1e-4, REL = 1e-3, H = 1e-5;

    /**
     * One adapted layer, {@code loss = sum(G * (x W^T + s (x A^T) B^T))}: {@code dL/dB = s G^T (x A^T)},
     * {@code dL/dA = s (G B)^T x}, summed over the rows of x.
     */
    @Test
    void oneLayerGradientsMatchTheFormulas() {
        ModelConfig config = TorchTestModels.GRAD_LLAMA; // q_proj: in 16, out 16
        LoraConfig lora = new LoraConfig(3, 5, 0.0, "q_proj", false, false);
        int in = 16, out = 16, r = 3, n = 7;
        double s = lora.scaling();
        SplittableRandom rng = new SplittableRandom(5);
        float[] x = random(rng, n * in), w = random(rng, out * in), g = random(rng, n * out), b = random(rng, out * r);
        try (NDManager m = DjlTestSupport.manager()) {
            LoraLayers layers = LoraLayers.create(m, config, lora, 9);
            String aName = LoraTarget.Q_PROJ.peftName(0, "A"), bName = LoraTarget.Q_PROJ.peftName(0, "B");
            Map<String, Tensor> ab = layers.export();
            ab.put(bName, Tensor.of(bName, new long[] {out, r}, b)); // B != 0, else dL/dA = 0
            for (int l = 1; l < config.numHiddenLayers(); l++) {
                String name = LoraTarget.Q_PROJ.peftName(l, "B");
                ab.put(name, Tensor.of(name, new long[] {out, r}, new float[out * r]));
            }
            layers.load(ab, m);
            float[] a = ab.get(aName).toArray();
            NDArray wArr = NativeArrays.floats(m, w, new Shape(out, in));
            try (GradientCollector gc = Engines.pytorch().newGradientCollector(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray xArr = NativeArrays.floats(m, x, new Shape(n, in));
                NDArray y = layers.adaptInPlace(Linear.linear(xArr, wArr).singletonOrThrow(), xArr, 0, LoraTarget.Q_PROJ);
                gc.backward(y.mul(NativeArrays.floats(m, g, new Shape(n, out))).sum());
            }
            float[] gotA = layers.parameters().get(aName).getGradient().toFloatArray();
            float[] gotB = layers.parameters().get(bName).getGradient().toFloatArray();
            double[] xa = new double[n * r], gb = new double[n * r];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < r; k++) {
                    for (int j = 0; j < in; j++) xa[i * r + k] += (double) x[i * in + j] * a[k * in + j];
                    for (int o = 0; o < out; o++) gb[i * r + k] += (double) g[i * out + o] * b[o * r + k];
                }
            }
            for (int o = 0; o < out; o++) {
                for (int k = 0; k < r; k++) {
                    double want = 0;
                    for (int i = 0; i < n; i++) want += s * g[i * out + o] * xa[i * r + k];
                    assertThat((double) gotB[o * r + k]).as("dB[%d,%d]", o, k).isCloseTo(want, tol(want));
                }
            }
            for (int k = 0; k < r; k++) {
                for (int j = 0; j < in; j++) {
                    double want = 0;
                    for (int i = 0; i < n; i++) want += s * gb[i * r + k] * x[i * in + j];
                    assertThat((double) gotA[k * in + j]).as("dA[%d,%d]", k, j).isCloseTo(want, tol(want));
                }
            }
        }
    }

    /** Every targeted projection on the whole policy: autograd on A and B against finite differences in double. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.vaco.learner.policy.TorchPolicyGradientTest#configs")
    void policyGradientsMatchFiniteDifferences(ModelConfig config) {
        Weights weights = TorchTestModels.random(config, 41);
        LoraConfig lora = new LoraConfig(2, 4, 0.0, LoraConfig.ALL_LINEAR, false, false);
        int v = config.vocabSize(), rows = 2, t = 5;
        int[][] tokens = TorchTestModels.randomTokens(v, rows, t, 42), targets = TorchTestModels.randomTokens(v, rows, t, 43);
        try (TorchPolicy policy = TorchPolicy.create(config, weights, lora, 44); NDManager m = DjlTestSupport.manager()) {
            Map<String, Tensor> adapter = withRandomB(policy.exportAdapter(), 45);
            policy.loadAdapter(adapter);
            assertThat(policy.trainable().keySet()).allMatch(k -> k.contains(".lora_"))
                    .hasSize(2 * 7 * config.numHiddenLayers());
            policy.zeroGradients();
            try (GradientCollector gc = Engines.pytorch().newGradientCollector(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                gc.backward(policy.tokenLogProbs(m.create(tokens), m.create(targets)).sum());
            }
            for (NDArray p : policy.parameters().values()) {
                assertThat(p.hasGradient()).as("base %s has no gradient", p.getName()).isFalse();
            }
            Map<String, double[]> merged = NaiveLlama.toDouble(weights);
            SplittableRandom probes = new SplittableRandom(46);
            double worst = 0;
            for (LoraTarget target : LoraTarget.values()) {
                int layer = probes.nextInt(config.numHiddenLayers());
                for (String which : new String[] {"A", "B"}) {
                    String name = target.peftName(layer, which);
                    float[] grad = policy.gradient(name, m).toFloatArray();
                    double[] p = toDouble(adapter.get(name).toArray());
                    for (int probe = 0; probe < 2; probe++) {
                        int i = probes.nextInt(p.length);
                        double saved = p[i];
                        p[i] = saved + H;
                        double plus = sumLogProbs(config, merged, adapter, lora, target, layer, which, p, tokens, targets);
                        p[i] = saved - H;
                        double minus = sumLogProbs(config, merged, adapter, lora, target, layer, which, p, tokens, targets);
                        p[i] = saved;
                        double fd = (plus - minus) / (2 * H);
                        worst = Math.max(worst, Math.abs(grad[i] - fd));
                        assertThat((double) grad[i]).as("%s[%d]", name, i).isCloseTo(fd, tol(fd));
                    }
                }
            }
            System.out.printf("LoRA gradients vs finite differences, %s: max abs diff %.2e%n", config.modelType(), worst);
        }
    }

    /** The oracle's masked log-prob sum with adapter matrix {@code which} of {@code target} replaced by {@code p}. */
    private static double sumLogProbs(ModelConfig config, Map<String, double[]> base, Map<String, Tensor> adapter,
                                      LoraConfig lora, LoraTarget changed, int changedLayer, String which, double[] p,
                                      int[][] tokens, int[][] targets) {
        Map<String, double[]> w = new LinkedHashMap<>(base);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            for (LoraTarget t : lora.targets()) {
                double[] a = toDouble(adapter.get(t.peftName(l, "A")).toArray());
                double[] b = toDouble(adapter.get(t.peftName(l, "B")).toArray());
                if (t == changed && l == changedLayer) {
                    if (which.equals("A")) a = p;
                    else b = p;
                }
                w.put(t.weightName(l), merge(base.get(t.weightName(l)), a, b, lora.r(), t.inFeatures(config),
                        t.outFeatures(config), lora.scaling()));
            }
        }
        NaiveLlama oracle = new NaiveLlama(config, w);
        double sum = 0;
        for (int row = 0; row < tokens.length; row++) {
            double[][] logits = oracle.logits(tokens[row]);
            for (int q = 0; q < tokens[row].length; q++) sum += NaiveLlama.logSoftmax(logits[q])[targets[row][q]];
        }
        return sum;
    }

    private static double[] merge(double[] w, double[] a, double[] b, int r, int in, int out, double s) {
        double[] m = w.clone();
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < r; k++) {
                for (int i = 0; i < in; i++) m[o * in + i] += s * b[o * r + k] * a[k * in + i];
            }
        }
        return m;
    }

    /** The adapter with every B drawn from U(-0.3, 0.3): a trained adapter, whose A receives gradient. */
    static Map<String, Tensor> withRandomB(Map<String, Tensor> adapter, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        adapter.forEach((name, t) -> {
            if (!name.contains("lora_B")) {
                out.put(name, t);
                return;
            }
            float[] d = new float[(int) t.numel()];
            for (int i = 0; i < d.length; i++) d[i] = (float) (0.6 * rng.nextDouble() - 0.3);
            out.put(name, Tensor.of(name, t.shape(), d));
        });
        return out;
    }

    private static org.assertj.core.data.Offset<Double> tol(double want) {
        return org.assertj.core.data.Offset.offset(ABS + REL * Math.abs(want));
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (2 * rng.nextDouble() - 1);
        return f;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
