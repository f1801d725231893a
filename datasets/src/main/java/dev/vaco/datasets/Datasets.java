package dev.vaco.datasets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** Entry points for loading problem files and for deterministic shuffling and splitting. */
public final class Datasets {

    private Datasets() {
    }

    /** A train/test partition. */
    public record Split(List<Problem> train, List<Problem> test) {
        public Split {
            train = List.copyOf(train);
            test = List.copyOf(test);
        }
    }

    /**
     * Loads a {@code .jsonl} or {@code .parquet} file; the source name is the file name without extension.
     *
     * @throws DatasetFormatException naming file, line/row and field for malformed content
     */
    public static List<Problem> load(Path file, RecordAdapter adapter) {
        String fileName = file.getFileName().toString();
        int dot = fileName.lastIndexOf('.');
        return load(file, adapter, dot > 0 ? fileName.substring(0, dot) : fileName);
    }

    public static List<Problem> load(Path file, RecordAdapter adapter, String source) {
        return load(file, adapter, source, 0);
    }

    private static List<Problem> load(Path file, RecordAdapter adapter, String source, long firstIndex) {
        Objects.requireNonNull(adapter, "adapter");
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) {
            return JsonlLoader.load(file, adapter, source, firstIndex);
        }
        if (lower.endsWith(".parquet")) {
            return ParquetLoader.load(file, adapter, source, firstIndex);
        }
        throw new DatasetFormatException(file + ": unknown format; expected a .jsonl, .ndjson or .parquet file");
    }

    /**
     * Loads several shards of one split (e.g. {@code test-00000-of-00002.parquet}, ...) in the given order.
     * Record indices, and so default ids {@code source/index}, run on across shards and stay unique.
     */
    public static List<Problem> loadAll(List<Path> files, RecordAdapter adapter, String source) {
        List<Problem> out = new ArrayList<>();
        for (Path f : files) {
            out.addAll(load(f, adapter, source, out.size()));
        }
        return out;
    }

    /**
     * A new list with the elements in a seeded random order (Fisher-Yates driven by {@link SplitMix64}), the
     * same on every JVM.
     */
    public static <T> List<T> shuffle(List<T> items, long seed) {
        List<T> out = new ArrayList<>(items);
        SplitMix64 rng = new SplitMix64(seed);
        for (int i = out.size() - 1; i > 0; i--) {
            Collections.swap(out, i, rng.nextInt(i + 1));
        }
        return out;
    }

    /**
     * Shuffles by seed, then puts the first {@code round(testFraction * size)} items in test and the rest in
     * train.
     */
    public static Split split(List<Problem> problems, double testFraction, long seed) {
        if (!(testFraction >= 0.0 && testFraction <= 1.0)) {
            throw new IllegalArgumentException("testFraction must be in [0, 1], found " + testFraction);
        }
        List<Problem> shuffled = shuffle(problems, seed);
        int nTest = (int) Math.round(testFraction * shuffled.size());
        return new Split(shuffled.subList(nTest, shuffled.size()), shuffled.subList(0, nTest));
    }
}
