package dev.vaco.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** The Python baselines of this module (bench/src/main/python), found from the repository root or from bench/. */
final class BenchScripts {
    private BenchScripts() {}

    static Path python(String name) {
        Path fromRoot = Path.of("bench/src/main/python", name);
        return Files.isRegularFile(fromRoot) ? fromRoot : Path.of("src/main/python", name);
    }
}
