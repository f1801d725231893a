package dev.vaco.learner.policy;

import ai.djl.ndarray.NDManager;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraMerge;
import dev.vaco.server.engine.AdapterInputs;
import dev.vaco.server.engine.GraphOptions;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's LoRA (adapter tensors as graph inputs of one session, rank zero-padded to the session's R, scaling
 * folded into B) computes the learner's LoRA policy: with a random non-zero adapter, ORT's log-probs agree with DJL's
 * to 1e-4 in a full pass and in KV-cached decoding; and the merged weights ({@link LoraMerge}) in a plain session give
 * the log-probs of the base session with the adapter bound (1e-4). Both graph layouts (packed q|k|v with the folded
 * attention scale, and separate projections) and an adapter of only q/v (the others bound to zeros). Measured: at most
 * 5e-5 on the 25M-shaped tiny config, 3e-6 on the small ones.
 */
class LoraServingParityTest {
    static final int MAX_RANK = 8;

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (ModelConfig c : List.of(TorchTestModels.QWEN2_GQA, ModelInit.tinyConfig())) {
            for (GraphOptions g : List.of(GraphOptions.DEFAULT, new GraphOptions(false, false, true))) {
                out.add(Arguments.of(c, g, LoraConfig.ALL_LINEAR));
            }
        }
        out.add(Arguments.of(TorchTestModels.QWEN2_GQA, GraphOptions.DEFAULT, "q_proj,v_proj"));
        return out;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void ortWithAdapterInputsAgreesWithDjlAndWithTheMergedModel(ModelConfig config, GraphOptions graph, String targets) {
        Weights w = TorchTestModels.random(config, 41);
        LoraConfig lora = new LoraConfig(4, 8, 0.0, targets, false, false); // r 4 < R 8: padded; scaling 2
        int t = Math.min(24, config.maxPositionEmbeddings());
        int[][] tokens = TorchTestModels.randomTokens(config.vocabSize(), 2, t, 42);
        PolicyOptions options = PolicyOptions.DEFAULT.withGraph(graph.withLoraRank(MAX_RANK));
        try (TorchPolicy djl = TorchPolicy.create(config, w, lora, 43);
             NDManager m = Engines.pytorch().newBaseManager()) {
            djl.loadAdapter(LoraGradientTest.withRandomB(djl.exportAdapter(), 44));
            Map<String, Tensor> adapter = djl.exportAdapter();
            float[] torch = djl.logits(m.create(tokens)).toFloatArray(); // [2, T, V]
            Weights merged = LoraMerge.merge(config, w, new AdapterFiles.Adapter(lora, "", adapter));
            try (OrtPolicy base = OrtPolicy.create(config, w, options);
                 OrtPolicy adapted = base.withAdapter(AdapterInputs.of(config, MAX_RANK, lora, adapter));
                 OrtPolicy mergedSession = OrtPolicy.create(config, merged, PolicyOptions.DEFAULT.withGraph(graph))) {
                int v = config.vocabSize();
                double full = 0, decode = 0, vsMerged = 0, vsBase = 0;
                for (int row = 0; row < tokens.length; row++) {
                    float[][] ort = adapted.logits(tokens[row]);
                    float[][] mergedLogits = mergedSession.logits(tokens[row]);
                    float[][] baseLogits = base.logits(tokens[row]);
                    KvCache cache = adapted.newCache(1, t);
                    float[] last = adapted.prefill(cache, 0, Arrays.copyOf(tokens[row], t / 2));
                    for (int i = 0; i < t; i++) {
                        float[] want = logSoftmax(Arrays.copyOfRange(torch, (row * t + i) * v, (row * t + i + 1) * v));
                        full = Math.max(full, maxAbsDiff(logSoftmax(ort[i]), want));
                        vsMerged = Math.max(vsMerged, maxAbsDiff(logSoftmax(mergedLogits[i]), logSoftmax(ort[i])));
                        vsBase = Math.max(vsBase, maxAbsDiff(logSoftmax(baseLogits[i]), want));
                        if (i >= t / 2 - 1) {
                            decode = Math.max(decode, maxAbsDiff(logSoftmax(last), want));
                            if (i + 1 < t) last = adapted.decode(cache, new int[] {tokens[row][i + 1]})[0];
                        }
                    }
                }
                System.out.printf("LoRA ORT vs DJL log-probs: full %.2e, cached %.2e; merged vs adapter inputs %.2e%n",
                        full, decode, vsMerged);
                assertThat(vsBase).as("the adapter changes the model (else this test could not fail)").isGreaterThan(1e-2);
                assertThat(full).as("full pass, max |ORT - DJL| log-prob").isLessThan(1e-4);
                assertThat(decode).as("cached decoding, max |ORT - DJL| log-prob").isLessThan(1e-4);
                assertThat(vsMerged).as("merged session vs base + adapter inputs").isLessThan(1e-4);
            }
        }
    }

    private static float[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float f : x) max = Math.max(max, f);
        for (float f : x) sum += Math.exp(f - max);
        double lse = max + Math.log(sum);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (x[i] - lse);
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
