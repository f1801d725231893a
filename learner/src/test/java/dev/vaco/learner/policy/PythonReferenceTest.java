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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Logits against {@code hf_llama_ref.py}, a transcription of transformers' eager Llama / Qwen2 forward run by Debian's
 * PyTorch 1.13, on a model directory the Java side wrote (config.json + model.safetensors). Skipped, with the reason
 * printed, when {@code /usr/bin/python3} has no torch.
 */
class PythonReferenceTest {
    static final String PYTHON = "/usr/bin/python3";
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

    /** Locating and running the Python scripts of src/test/python. */
    static final class PythonScripts {
        private PythonScripts() {}

        static Path path(String name) {
            Path base = Path.of(System.getProperty("basedir", "."));
            Path p = base.resolve("src/test/python").resolve(name);
            return Files.exists(p) ? p : Path.of("learner/src/test/python").resolve(name);
        }

        /** null when {@code /usr/bin/python3 -c 'import torch, numpy'} works, else why not. */
        static String torchUnavailableReason() {
            if (!Files.isExecutable(Path.of(PYTHON))) return PYTHON + " does not exist";
            try {
                Process p = new ProcessBuilder(PYTHON, "-c", "import torch, numpy").redirectErrorStream(true).start();
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return "importing torch took over 120 s";
                }
                return p.exitValue() == 0 ? null : PYTHON + " cannot import torch/numpy: " + output.strip();
            } catch (IOException | InterruptedException e) {
                return "cannot run " + PYTHON + ": " + e;
            }
        }

        static String run(List<String> command) throws IOException, InterruptedException {
            return run(command, java.util.Map.of());
        }

        static String run(List<String> command, java.util.Map<String, String> env)
                throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            if (p.exitValue() != 0) throw new AssertionError(command + " failed (" + p.exitValue() + "):\n" + output);
            return output;
        }
    }
}
