package dev.vaco.learner.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Locating and running the Python scripts of src/test/python: public (and in the test-jar) because the bench module's
 * TrainBench runs its PyTorch baseline the same way.
 */
public final class PythonScripts {
    public static final String PYTHON = "/usr/bin/python3";

    private PythonScripts() {}

    public static Path path(String name) {
        Path base = Path.of(System.getProperty("basedir", "."));
        Path p = base.resolve("src/test/python").resolve(name);
        return Files.exists(p) ? p : Path.of("learner/src/test/python").resolve(name);
    }

    /** null when {@code /usr/bin/python3 -c 'import torch, numpy'} works, else why not. */
    public static String torchUnavailableReason() {
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

    public static String run(List<String> command) throws IOException, InterruptedException {
        return run(command, java.util.Map.of());
    }

    public static String run(List<String> command, java.util.Map<String, String> env)
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
