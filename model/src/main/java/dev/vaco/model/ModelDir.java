package dev.vaco.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A model directory in Hugging Face's layout: {@code config.json}, {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json}, {@code tokenizer.json}, {@code tokenizer_config.json}.
 */
public final class ModelDir {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    private ModelDir() {}

    /** Config and weights, validated against each other. The tokenizer is loaded separately ({@link Tokenizer}). */
    public record Loaded(Path dir, ModelConfig config, Weights weights) {}

    public static Loaded load(Path dir) {
        if (!Files.isDirectory(dir)) throw new ModelFormatException(dir + ": not a model directory (it does not exist)");
        ModelConfig config = config(dir);
        return new Loaded(dir, config, weights(dir, config));
    }

    public static ModelConfig config(Path dir) {
        Path c = dir.resolve(CONFIG);
        if (!Files.isRegularFile(c)) throw new ModelFormatException(c + ": missing (a model directory needs config.json)");
        return ModelConfig.read(c);
    }

    public static Weights weights(Path dir, ModelConfig config) {
        Path single = dir.resolve(WEIGHTS), index = dir.resolve(INDEX);
        if (Files.isRegularFile(single)) return Weights.validated(config, Safetensors.read(single), single.toString());
        if (Files.isRegularFile(index)) return Weights.validated(config, readSharded(index), index.toString());
        throw new ModelFormatException(dir + ": no weights: expected " + WEIGHTS + " or " + INDEX);
    }

    /** Sharded checkpoints: the index maps each tensor name to the shard file that holds it. */
    private static Map<String, Tensor> readSharded(Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(index));
        } catch (IOException e) {
            throw new ModelFormatException(index + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new ModelFormatException(index + ": missing object 'weight_map'");
        Set<String> shards = new LinkedHashSet<>();
        map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (String shard : shards) {
            Path p = index.resolveSibling(shard);
            if (!Files.isRegularFile(p)) throw new ModelFormatException(index + ": shard " + shard + " is missing");
            Map<String, Tensor> got = Safetensors.read(p);
            got.forEach((name, t) -> {
                JsonNode owner = map.get(name);
                if (owner == null || !owner.asText().equals(shard)) {
                    throw new ModelFormatException(p + ": tensor '" + name + "' is not listed for this shard in " + INDEX);
                }
                all.put(name, t);
            });
        }
        map.fieldNames().forEachRemaining(n -> {
            if (!all.containsKey(n)) throw new ModelFormatException(index + ": tensor '" + n + "' not found in its shard");
        });
        return all;
    }

    /** Writes config and weights (single file, fp32). Tokenizer files are the caller's (copied or generated). */
    public static void save(Path dir, ModelConfig config, Weights weights) throws IOException {
        Files.createDirectories(dir);
        config.write(dir.resolve(CONFIG));
        Safetensors.write(dir.resolve(WEIGHTS), weights.tensors());
        Path index = dir.resolve(INDEX);
        Files.deleteIfExists(index); // a stale index next to a fresh single file would be ambiguous
    }

    /** Copies the tokenizer files from one model directory to another (exporting a checkpoint keeps the tokenizer). */
    public static void copyTokenizer(Path from, Path to) throws IOException {
        for (String f : new String[] {TOKENIZER, TOKENIZER_CONFIG, "special_tokens_map.json", "generation_config.json"}) {
            Path src = from.resolve(f);
            if (Files.isRegularFile(src)) Files.copy(src, to.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
