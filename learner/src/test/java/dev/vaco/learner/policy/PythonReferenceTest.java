package dev.vaco.learner.policy;

import ai.djl.ndarray.NDManager;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Logits against {@code hf_llama_ref.py}, a transcription of transformers' eager Llama / Qwen2 forward run by Debian's
 * PyTorch 1.13, on a model directory the Java side wrote (config.json + model.safetensors). Skipped, with the reason
 * printed, when {@code /usr/bin/python3} has no torch.
 */
class PythonReferenceTest {
    static final String PYTHON = PythonScripts.PYTHON;
    static final Path SCRIPT = PythonScripts.path("hf_llama_ref.py");

    @BeforeAll
    static void requireTorch() {
        String reason = PythonScripts.torchUnavailableReason();
        if (reason != null) System.out.println("PythonReferenceTest skipped: " + reason);
        Assumptions.assumeTrue(reason == null, reason);
    }

    static List<ModelConfig> configs() {
        return List.of(TorchTestModels.LLAMA_ODD_TIED, TorchTestModels.QWEN2_GQA, TorchTestModels.LLAMA_MHA_BIAS, TorchTestModels.LLAMA3_ROPE_SCALED,
                ModelInit.tinyConfig());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchTheTransformersTranscription(ModelConfig config, @TempDir Path dir) throws Exception {
        Weights weights = TorchTestModels.random(config, 51);
        ModelDir.save(dir, config, weights);
        int b = 3, t = 17, v = config.vocabSize();
        int[][] tokens = TorchTestModels.randomTokens(v, b, t, 52);
        Path tokenFile = dir.resolve("tokens.txt"), out = dir.resolve("logits.f32");
        Files.writeString(tokenFile, java.util.Arrays.stream(tokens)
                .map(r -> java.util.Arrays.stream(r).mapToObj(Integer::toString).collect(Collectors.joining(" ")))
                .collect(Collectors.joining("\n")) + "\n");
        PythonScripts.run(List.of(PYTHON, SCRIPT.toString(), dir.toString(), tokenFile.toString(), out.toString()));
        float[] expected = readFloats(out, b * t * v);
        try (TorchPolicy policy = TorchPolicy.create(config, weights); NDManager m = DjlTestSupport.manager()) {
            float[] actual = policy.logits(m.create(tokens)).toFloatArray();
            double worst = 0;
            for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
            System.out.printf("logits vs hf_llama_ref.py (torch 1.13), %s: max abs diff %.2e%n",
                    TorchPolicyForwardTest.describe(config), worst);
            assertThat(worst).isLessThan(1e-4);
        }
    }

    static float[] readFloats(Path file, int n) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(bytes.remaining()).isEqualTo(n * 4);
        float[] f = new float[n];
        bytes.asFloatBuffer().get(f);
        return f;
    }
}
