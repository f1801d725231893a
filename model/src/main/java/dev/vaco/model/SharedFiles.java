package dev.vaco.model;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds {@code ../shared/<sub>} beside the project checkout (reference data for tests and benchmarks; the project never needs it to run). */
public final class SharedFiles {
    private SharedFiles() {}

    /** The directory {@code shared/<sub>} next to the checkout, or null when absent (tests then skip). */
    public static Path find(String sub) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared").resolve(sub);
            if (Files.isDirectory(candidate)) return candidate;
        }
        return null;
    }
}
