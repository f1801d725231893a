package dev.vaco.learner.policy;

import ai.djl.ndarray.NDManager;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraMerge;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The LoRA policy's forward against the base and the merged model: equal to the base at initialisation (B = 0, up to
 * rounding) and with the adapters off (exactly); equal to its own merged export ({@code W + scaling B A}) to 1e-4 in log-probs; an adapter
 * written to PEFT's files and read back gives bit-identical log-probs.
 */
class LoraPolicyTest {
    @TempDir Path dir;

    static final ModelConfig CONFIG = TorchTestModels.QWEN2_GQA; // q/k/v biases, GQA, untied
    static final LoraConfig ALL = new LoraConfig(4, 8, 0.0, LoraConfig.ALL_LINEAR, false, false);

    private static float[] logProbs(TorchPolicy p, int[][] tokens, int[][] targets) {
        try (NDManager m = DjlTestSupport.manager()) {
            return p.tokenLogProbs(m.create(tokens), m.create(targets), 0.9f).toFloatArray();
        }
    }

    @Test
    void startsAsTheBaseAndWithAdaptersOffIsTheBase() {
        Weights w = TorchTestModels.random(CONFIG, 1);
        int[][] tokens = TorchTestModels.randomTokens(CONFIG.vocabSize(), 3, 12, 2);
        int[][] targets = TorchTestModels.randomTokens(CONFIG.vocabSize(), 3, 12, 3);
        try (TorchPolicy base = TorchPolicy.create(CONFIG, w); TorchPolicy lora = TorchPolicy.create(CONFIG, w, ALL, 4)) {
            float[] want = logProbs(base, tokens, targets);
            // equal up to rounding: measured 1 ulp-level differences (cause not isolated), never more
            assertThat(maxAbsDiff(logProbs(lora, tokens, targets), want)).as("B = 0 at initialisation").isLessThan(1e-6);
            lora.loadAdapter(LoraGradientTest.withRandomB(lora.exportAdapter(), 5));
            float[] adapted = logProbs(lora, tokens, targets);
            assertThat(maxAbsDiff(adapted, want)).as("a non-zero adapter changes the model").isGreaterThan(1e-3);
            try (TorchPolicy off = lora.withoutAdapter()) {
                assertThat(logProbs(off, tokens, targets)).containsExactly(want);
            }
            assertThat(logProbs(lora, tokens, targets)).as("closing the view leaves the policy").containsExactly(adapted);
        }
    }

    @Test
    void mergedExportGivesTheLogProbsOfBasePlusAdapter() {
        Weights w = TorchTestModels.random(CONFIG, 11);
        int[][] tokens = TorchTestModels.randomTokens(CONFIG.vocabSize(), 3, 16, 12);
        int[][] targets = TorchTestModels.randomTokens(CONFIG.vocabSize(), 3, 16, 13);
        try (TorchPolicy lora = TorchPolicy.create(CONFIG, w, ALL, 14)) {
            lora.loadAdapter(LoraGradientTest.withRandomB(lora.exportAdapter(), 15));
            Weights merged = lora.exportWeights();
            Weights javaMerged = LoraMerge.merge(CONFIG, w, new AdapterFiles.Adapter(ALL, "", lora.exportAdapter()));
            double worstWeight = 0;
            for (Tensor t : merged.tensors()) worstWeight = Math.max(worstWeight,
                    maxAbsDiff(t.toArray(), javaMerged.get(t.name()).toArray()));
            assertThat(worstWeight).as("libtorch's merge vs the plain-Java one (vaco merge-lora)").isLessThan(1e-5);
            String q = "model.layers.0.self_attn.q_proj.weight";
            assertThat(maxAbsDiff(merged.get(q).toArray(), w.get(q).toArray())).isGreaterThan(1e-3);
            assertThat(merged.get("model.norm.weight").toArray()).containsExactly(w.get("model.norm.weight").toArray());
            try (TorchPolicy full = TorchPolicy.create(CONFIG, merged)) {
                double diff = maxAbsDiff(logProbs(full, tokens, targets), logProbs(lora, tokens, targets));
                System.out.printf("merged vs base + adapter: max |log-prob diff| %.2e%n", diff);
                assertThat(diff).isLessThan(1e-4);
            }
        }
    }

    @Test
    void anAdapterWrittenToPeftFilesLoadsBackBitExact() throws Exception {
        Weights w = TorchTestModels.random(CONFIG, 21);
        LoraConfig qv = new LoraConfig(3, 16, 0.05, "q_proj,v_proj,down_proj", true, false);
        int[][] tokens = TorchTestModels.randomTokens(CONFIG.vocabSize(), 2, 10, 22);
        int[][] targets = TorchTestModels.randomTokens(CONFIG.vocabSize(), 2, 10, 23);
        try (TorchPolicy a = TorchPolicy.create(CONFIG, w, qv, 24); TorchPolicy b = TorchPolicy.create(CONFIG, w, qv, 25)) {
            a.loadAdapter(LoraGradientTest.withRandomB(a.exportAdapter(), 26));
            AdapterFiles.write(dir, new AdapterFiles.Adapter(qv, "base-model", a.exportAdapter()));
            AdapterFiles.Adapter read = AdapterFiles.read(dir, CONFIG);
            assertThat(read.config()).isEqualTo(qv);
            assertThat(read.baseModel()).isEqualTo("base-model");
            Map<String, Tensor> original = a.exportAdapter();
            assertThat(read.tensors().keySet()).containsExactlyElementsOf(original.keySet());
            original.forEach((name, t) -> assertThat(read.tensors().get(name).toArray()).containsExactly(t.toArray()));
            b.loadAdapter(read.tensors());
            assertThat(logProbs(b, tokens, targets)).containsExactly(logProbs(a, tokens, targets));
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }
}
