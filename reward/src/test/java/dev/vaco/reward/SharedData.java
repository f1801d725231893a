package dev.vaco.reward;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Locates ../shared beside the checkout by walking up from the working directory. Public for the bench module's
 * VerifierBench (test-jar).
 */
public final class SharedData {
    private SharedData() {
    }

    public static Optional<Path> find(String relative) {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path candidate = p.resolve("shared").resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
            p = p.getParent();
        }
        return Optional.empty();
    }
}
