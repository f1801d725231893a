package dev.vaco.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a user writes after {@code --dataset}: {@code synthetic} (the built-in held-out set), a local {@code .jsonl} or
 * {@code .parquet} file, or a Hugging Face Hub id such as {@code openai/gsm8k} (with {@code --config} and
 * {@code --split}). The record layout is GSM8K's or MATH's: {@code --format} names it, or it is detected (a Hub id or
 * file name containing "gsm8k", or a JSONL first line with "question", means GSM8K; otherwise MATH).
 */
public final class DatasetSpec {
    private DatasetSpec() {}

    public static List<Problem> load(String spec, String format, String config, String split, int limit, long seed) {
        List<Problem> all;
        if (spec.equals("synthetic")) {
            all = SyntheticMath.testSet(limit > 0 ? limit : 500, seed);
        } else if (Files.exists(Path.of(spec))) {
            Path file = Path.of(spec);
            all = Datasets.load(file, adapter(format, file.getFileName().toString(), sniff(file)));
        } else if (spec.matches("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")) {
            String cfg = config != null ? config : spec.toLowerCase(Locale.ROOT).contains("gsm8k") ? "main" : "default";
            all = new HubDatasets(HubDatasets.Config.fromEnvironment()).load(spec, cfg, split, adapter(format, spec, null));
        } else {
            throw new IllegalArgumentException("--dataset '" + spec + "' is neither 'synthetic', an existing file, nor a Hub id owner/name");
        }
        return limit > 0 && all.size() > limit ? all.subList(0, limit) : all;
    }

    private static String sniff(Path file) {
        if (!file.toString().endsWith(".jsonl") && !file.toString().endsWith(".json")) return null;
        try (var lines = Files.lines(file)) {
            return lines.filter(l -> !l.isBlank()).findFirst().orElse(null);
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException("--dataset " + file + ": cannot read: " + e.getMessage());
        }
    }

    private static RecordAdapter adapter(String format, String name, String firstLine) {
        String f = format == null ? "auto" : format.toLowerCase(Locale.ROOT);
        return switch (f) {
            case "gsm8k" -> Gsm8k.INSTANCE;
            case "math" -> MathDataset.INSTANCE;
            case "auto" -> {
                boolean gsm = name.toLowerCase(Locale.ROOT).contains("gsm8k")
                        || (firstLine != null && firstLine.contains("\"question\"") && !firstLine.contains("\"problem\""));
                yield gsm ? Gsm8k.INSTANCE : MathDataset.INSTANCE;
            }
            default -> throw new IllegalArgumentException("--format must be gsm8k, math or auto, found '" + format + "'");
        };
    }
}
