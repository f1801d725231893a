package dev.vaco.server.engine;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.NaiveLlama;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraMerge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The quantized decoder end to end. Oracle: {@link NaiveLlama} in double on the dequantized weights (every projection,
 * and lm_head, replaced by (q - zp) * scale of {@link BlockQuantizer}'s blocks), which a session with fp32 activations
 * (accuracy level 0) must match as the fp32 graph matches the fp32 weights. Then the served schemes (int8 activations)
 * against the fp32 policy: the precision gap the README states.
 */
class QuantizedPolicyTest {
    static Stream<Arguments> configsAndSchemes() {
        List<Arguments> out = new ArrayList<>();
        for (ModelConfig c : List.of(OrtTestModels.GQA_TIED, OrtTestModels.QWEN2, OrtTestModels.MHA_BIAS_ODD, ModelInit.tinyConfig())) {
            for (Quantization s : List.of(Quantization.INT8, Quantization.INT4)) out.add(Arguments.of(c, s.withBlock(16, 0)));
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("configsAndSchemes")
    void fp32ActivationsMatchNaiveReferenceOnDequantizedWeights(ModelConfig c, Quantization s) {
        Weights w = OrtTestModels.weights(c, 11);
        int[] tokens = OrtTestModels.tokens(c, 23, 5);
        double[][] expected = dequantizedReference(c, w, s).logits(tokens);
        double[][] fp32 = new NaiveLlama(c, w).logits(tokens);
        try (OrtPolicy p = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withQuantization(s))) {
            float[][] got = p.logits(tokens);
            assertThat(maxAbsDiff(got, expected)).as("max |ort - dequantized reference|").isLessThan(2e-4);
            // the quantized function is another function: the check above would fail on the fp32 weights
            assertThat(maxAbsDiff(got, fp32)).as("max |ort - fp32 reference|").isGreaterThan(1e-2);
            assertThat(p.quantizedBytes()).isPositive();
        }
    }

    /**
     * The served schemes against the fp32 policy, teacher-forced over 64 tokens, on a stress model: the tiny config with
     * {@link OrtTestModels#weights} (embedding std 0.3, matrices N(0, 1/fan_in): peaked logits that amplify every
     * perturbation; HF's 0.02 init gives near-uniform logits where any scheme looks exact). Measured: int8 max |log-prob
     * diff| 0.54, mean KL(fp32 || q) 7.1e-3; int4 4.4 and 0.39 (README "Quantized rollouts" has the bench models').
     */
    @Test
    void servedSchemesStayCloseToFp32() {
        ModelConfig c = ModelInit.tinyConfig();
        Weights w = OrtTestModels.weights(c, 3);
        int[] tokens = OrtTestModels.tokens(c, 64, 9);
        double[] gap = new double[2], kl = new double[2];
        try (OrtPolicy fp32 = OrtPolicy.create(c, w)) {
            double[][] ref = logProbs(fp32.logits(tokens));
            List<Quantization> schemes = List.of(Quantization.INT8, Quantization.INT4);
            for (int i = 0; i < 2; i++) {
                try (OrtPolicy q = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withQuantization(schemes.get(i)))) {
                    double[][] lp = logProbs(q.logits(tokens));
                    gap[i] = maxAbsDiff(lp, ref, tokens);
                    kl[i] = meanKl(ref, lp);
                }
            }
        }
        assertThat(gap[0]).as("int8 max |log-prob diff|").isGreaterThan(0).isLessThan(1.0);
        assertThat(gap[1]).as("int4 max |log-prob diff|").isGreaterThan(gap[0]).isLessThan(8.0);
        assertThat(kl[0]).as("int8 mean KL").isLessThan(0.015);
        assertThat(kl[1]).as("int4 mean KL").isGreaterThan(kl[0]).isLessThan(0.8);
    }

    /**
     * LoRA on a quantized base: the adapter's two thin matmuls stay fp32 beside the MatMulNBits, so the session with an
     * adapter bound is the dequantized base with the adapter merged (in double: NaiveLlama on LoraMerge's weights).
     */
    @Test
    void adapterInputsOnAQuantizedBaseAddTheirDelta() {
        ModelConfig c = OrtTestModels.QWEN2;
        Weights w = OrtTestModels.weights(c, 13);
        Quantization s = Quantization.INT4.withBlock(16, 0);
        LoraConfig lora = new LoraConfig(4, 8, 0.0, LoraConfig.ALL_LINEAR, false, false);
        Map<String, Tensor> adapter = RandomAdapters.of(c, lora, 14);
        Map<String, Tensor> dequantized = new LinkedHashMap<>();
        for (Tensor t : w.tensors()) {
            double[] d = LlamaGraph.quantized(t.name(), s) ? dequantize(t, s) : null;
            float[] f = new float[Math.toIntExact(t.numel())];
            for (int i = 0; i < f.length; i++) f[i] = d == null ? t.get(i) : (float) d[i];
            dequantized.put(t.name(), Tensor.of(t.name(), t.shape(), f));
        }
        Weights merged = LoraMerge.merge(c, Weights.validated(c, dequantized, "test"), new AdapterFiles.Adapter(lora, "", adapter));
        int[] tokens = OrtTestModels.tokens(c, 23, 15);
        double[][] expected = new NaiveLlama(c, merged).logits(tokens);
        try (OrtPolicy base = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withQuantization(s).withGraph(
                GraphOptions.DEFAULT.withQuantization(s).withLoraRank(8)));
             OrtPolicy adapted = base.withAdapter(AdapterInputs.of(c, 8, lora, adapter))) {
            assertThat(maxAbsDiff(adapted.logits(tokens), expected)).as("max |ort - merged dequantized reference|").isLessThan(2e-4);
            assertThat(maxAbsDiff(base.logits(tokens), expected)).as("the adapter changes the logits").isGreaterThan(1e-2);
        }
    }

    @Test
    void quantizationNeedsPrepackedWeights() {
        assertThatThrownBy(() -> PolicyOptions.DEFAULT.withPrepack(false).withQuantization(Quantization.INT8))
                .hasMessageContaining("prepacking");
        assertThatThrownBy(() -> Quantization.parse("fp8")).hasMessageContaining("none, int8 or int4");
    }

    /** NaiveLlama on w with every quantized weight dequantized; a quantized tied head becomes an untied one. */
    static NaiveLlama dequantizedReference(ModelConfig c, Weights w, Quantization s) {
        Map<String, double[]> d = NaiveLlama.toDouble(w);
        for (Tensor t : w.tensors()) {
            if (LlamaGraph.quantized(t.name(), s)) d.put(t.name(), dequantize(t, s));
        }
        ModelConfig oracle = c;
        if (c.tieWordEmbeddings() && LlamaGraph.quantized(LlamaGraph.QUANTIZED_TIED_HEAD, s)) {
            d.put("lm_head.weight", dequantize(w.get("model.embed_tokens.weight"), s));
            oracle = new ModelConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                    c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(),
                    c.maxPositionEmbeddings(), false, c.attentionBias(), c.bosTokenId(), c.eosTokenId(), c.ropeScaling());
        }
        return new NaiveLlama(oracle, d);
    }

    static double[] dequantize(Tensor t, Quantization s) {
        int n = Math.toIntExact(t.shape()[0]), k = Math.toIntExact(t.shape()[1]);
        BlockQuantizer.Quantized q = BlockQuantizer.quantize(t.data(), n, k, s);
        double[] out = new double[n * k];
        for (int row = 0; row < n; row++) {
            for (int col = 0; col < k; col++) out[row * k + col] = MatMulNBitsTest.dequantized(q, row, col);
        }
        return out;
    }

    static double[][] logProbs(float[][] logits) {
        double[][] out = new double[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            double[] z = new double[logits[i].length];
            for (int j = 0; j < z.length; j++) z[j] = logits[i][j];
            out[i] = NaiveLlama.logSoftmax(z);
        }
        return out;
    }

    /** max over positions t of |a[t][x_{t+1}] - b[t][x_{t+1}]|: the log-probs of the sequence's own next tokens. */
    static double maxAbsDiff(double[][] a, double[][] b, int[] tokens) {
        double m = 0;
        for (int t = 0; t + 1 < tokens.length; t++) m = Math.max(m, Math.abs(a[t][tokens[t + 1]] - b[t][tokens[t + 1]]));
        return m;
    }

    /** mean over positions of KL(p || q) = sum_v p_v (log p_v - log q_v). */
    static double meanKl(double[][] p, double[][] q) {
        double s = 0;
        for (int t = 0; t < p.length; t++) {
            for (int v = 0; v < p[t].length; v++) s += Math.exp(p[t][v]) * (p[t][v] - q[t][v]);
        }
        return s / p.length;
    }

    static double maxAbsDiff(float[][] a, double[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
        }
        return m;
    }
}
