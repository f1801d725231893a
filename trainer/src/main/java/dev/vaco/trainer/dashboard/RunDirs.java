package dev.vaco.trainer.dashboard;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The run directories of {@code vaco dashboard RUN_DIR...}, checked, each with the id the page and its URLs use. */
public final class RunDirs {
    /** A run directory and its id: its name, made unique with "-2", "-3", ... when two directories share one. */
    public record Run(String id, Path dir) {}

    private RunDirs() {}

    /** @throws IllegalArgumentException naming the first directory that is missing or holds no metrics.jsonl */
    public static List<Run> of(List<Path> dirs) {
        if (dirs.isEmpty()) throw new IllegalArgumentException("RUN_DIR: give at least one run directory");
        List<Run> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) throw new IllegalArgumentException("RUN_DIR " + d + ": no such directory");
            if (!Files.isRegularFile(d.resolve("metrics.jsonl"))) {
                throw new IllegalArgumentException("RUN_DIR " + d + ": holds no metrics.jsonl (not a vaco train run directory)");
            }
            Path abs = d.toAbsolutePath().normalize();
            String base = abs.getFileName() == null ? "run" : abs.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
            String id = base;
            for (int k = 2; !ids.add(id); k++) id = base + "-" + k;
            out.add(new Run(id, abs));
        }
        return out;
    }
}
