package dev.vaco.learner.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** A JVM without the native jar (and an empty native cache) is told which artifact to add. */
class EnginesTest {

    @Test
    void missingNativeLibraryNamesTheArtifact(@TempDir Path emptyCache) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String withoutNatives = Arrays.stream(cp.split(File.pathSeparator))
                .filter(e -> !e.contains("pytorch-native-cpu"))
                .collect(Collectors.joining(File.pathSeparator));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Dai.djl.offline=true",
                "-DENGINE_CACHE_DIR=" + emptyCache, "-DDJL_CACHE_DIR=" + emptyCache, "-cp", withoutNatives,
                LoadEngine.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        System.out.println("engine error without the native jar: " + out.lines().filter(l -> l.startsWith("ENGINE-"))
                .findFirst().orElse(out));
        assertThat(out).contains("ENGINE-ERROR").contains(Engines.NATIVE_ARTIFACT);
        assertThat(p.exitValue()).isEqualTo(3);
    }

    /** Child process: prints the engine error and exits 3, or exits 0 if the engine loaded. */
    public static final class LoadEngine {
        public static void main(String[] args) {
            try {
                Engines.pytorch();
                System.out.println("ENGINE-LOADED");
            } catch (IllegalStateException e) {
                System.out.println("ENGINE-ERROR " + e.getMessage());
                System.exit(3);
            }
        }
    }
}
