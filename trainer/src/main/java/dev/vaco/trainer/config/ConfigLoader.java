package dev.vaco.trainer.config;

import dev.vaco.fleet.ClusterConfig;
import dev.vaco.model.ConfigException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Builds a {@link TrainConfig}: defaults ({@link TrainConfig#defaults()}), then a YAML / JSON file holding only
 * overrides, then command-line overrides {@code key.path=value} ({@code objective.delta=0.3}), in that order.
 *
 * <p>Every key is checked against the defaults' tree, so an unknown key fails at once, listing the valid keys of its
 * section. A value is read by the type of its default (integer, number, boolean, string/enum name); range checks live
 * in the records' compact constructors. Every failure is a {@link ConfigException} whose message starts with the
 * key path and says what was expected and what was found.
 */
public final class ConfigLoader {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();
    private static final ObjectMapper YAML = new YAMLMapper();

    private ConfigLoader() {}

    /** Defaults + command-line overrides. */
    public static TrainConfig load(List<String> overrides) {
        return resolve(null, overrides);
    }

    /** Defaults + the overrides in {@code file} ({@code .yaml}, {@code .yml} or {@code .json}) + command line. */
    public static TrainConfig load(Path file, List<String> overrides) {
        return resolve(readFile(file), overrides);
    }

    /**
     * The resolved configuration, every default filled, as indented JSON (snake_case keys), with the cluster keystore's
     * password masked: this is printed and written into the run directory.
     */
    public static String toJson(TrainConfig config) {
        try {
            ObjectNode tree = JSON.valueToTree(config);
            ObjectNode cluster = (ObjectNode) tree.get("cluster");
            if (!config.cluster().keystorePassword().isEmpty()) cluster.put("keystore_password", ClusterConfig.MASK);
            return JSON.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + config, e);
        }
    }

    /** Writes {@link #toJson} to {@code file} (e.g. {@code <out_dir>/config.json}), creating parent directories. */
    public static void writeResolved(TrainConfig config, Path file) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            Files.writeString(file, toJson(config) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write resolved config to " + file, e);
        }
    }

    private static TrainConfig resolve(JsonNode fileOverrides, List<String> overrides) {
        ObjectNode tree = JSON.valueToTree(TrainConfig.defaults());
        if (fileOverrides != null) merge(tree, fileOverrides, "");
        for (String override : overrides) merge(tree, parseOverride(override), "");
        try {
            return JSON.treeToValue(tree, TrainConfig.class);
        } catch (JsonMappingException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof ConfigException ce) throw ce;
            }
            String path = e.getPath().stream().map(JsonMappingException.Reference::getFieldName)
                    .filter(f -> f != null).collect(Collectors.joining("."));
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            // a section from another module (cluster.* is the fleet's) names its own key: "cluster.members: ..."
            String msg = root instanceof IllegalArgumentException ? String.valueOf(root.getMessage()) : "";
            int colon = msg.indexOf(": ");
            if (!path.isEmpty() && colon > 0 && msg.startsWith(path + ".")) {
                throw new ConfigException(msg.substring(0, colon), msg.substring(colon + 2));
            }
            throw new ConfigException(path.isEmpty() ? "(config)" : path,
                    root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot map the configuration tree: " + e.getOriginalMessage(), e);
        }
    }

    private static JsonNode readFile(Path file) {
        String name = file.getFileName().toString().toLowerCase();
        ObjectMapper mapper = name.endsWith(".json") ? JSON
                : name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : null;
        if (mapper == null) {
            throw new ConfigException(file.toString(), "expected a .yaml, .yml or .json file, found '" + name + "'");
        }
        try {
            JsonNode tree = mapper.readTree(file.toFile());
            return tree == null || tree.isMissingNode() || tree.isNull() ? null : tree;
        } catch (JsonProcessingException e) {
            throw new ConfigException(file.toString(), "expected valid " + (mapper == JSON ? "JSON" : "YAML")
                    + ", found a syntax error: " + e.getOriginalMessage());
        } catch (IOException e) {
            boolean missing = e instanceof java.nio.file.NoSuchFileException || e instanceof java.io.FileNotFoundException;
            throw new ConfigException(file.toString(), missing ? "no such config file" : "cannot read the config file: " + e);
        }
    }

    /** {@code a.b=value} -> {"a": {"b": "value"}}; the value is typed later by its default. */
    private static ObjectNode parseOverride(String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException(override, "expected an override key.path=value (e.g. objective.delta=0.3)");
        }
        String[] keys = override.substring(0, eq).trim().split("\\.", -1);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode node = root;
        for (int i = 0; i < keys.length - 1; i++) node = node.putObject(keys[i]);
        node.put(keys[keys.length - 1], override.substring(eq + 1).trim());
        return root;
    }

    /** Overlays {@code overrides} on {@code target}, whose keys and value types (the defaults) are the schema. */
    private static void merge(ObjectNode target, JsonNode overrides, String prefix) {
        if (!overrides.isObject()) {
            throw new ConfigException(prefix.isEmpty() ? "(config)" : prefix,
                    "expected a section with keys " + keys(target) + ", found " + describe(overrides));
        }
        for (var field : overrides.properties()) {
            String path = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            JsonNode schema = target.get(field.getKey());
            if (schema == null) {
                throw new ConfigException(path, "unknown key; expected one of " + keys(target));
            }
            if (schema.isObject()) {
                if (field.getValue().isNull()) continue; // "objective:" with every key commented out
                merge((ObjectNode) schema, field.getValue(), path);
            } else {
                target.set(field.getKey(), typed(schema, field.getValue(), path));
            }
        }
    }

    /**
     * Keys whose value is a comma list: YAML/JSON may also give them as a list of scalars ({@code target_modules:
     * [q_proj, v_proj]}, as PEFT's configs are written), joined here into the same comma string.
     */
    private static final java.util.Set<String> LIST_KEYS = java.util.Set.of("lora.target_modules", "run.levels", "cluster.members");

    private static JsonNode typed(JsonNode schema, JsonNode value, String path) {
        if (value.isArray() && schema.isTextual() && LIST_KEYS.contains(path)) {
            List<String> items = new ArrayList<>();
            for (JsonNode item : value) {
                if (item.isContainerNode() || item.isNull()) {
                    throw new ConfigException(path, "expected a list of names, found an item " + describe(item));
                }
                items.add(item.asText().trim());
            }
            return TextNode.valueOf(String.join(",", items));
        }
        if (value.isContainerNode() || value.isNull() || value.isMissingNode()) {
            throw new ConfigException(path, "expected " + kind(schema) + ", found " + describe(value));
        }
        String text = value.asText().trim();
        if (schema.isIntegralNumber()) {
            Long parsed = value.isIntegralNumber() ? Long.valueOf(value.longValue())
                    : value.isTextual() ? parseLong(text) : null;
            if (parsed == null || (schema.isInt() && (parsed < Integer.MIN_VALUE || parsed > Integer.MAX_VALUE))) {
                throw new ConfigException(path, "expected " + kind(schema) + ", found " + describe(value));
            }
            return LongNode.valueOf(parsed);
        }
        if (schema.isNumber()) {
            Double parsed = value.isNumber() ? Double.valueOf(value.doubleValue())
                    : value.isTextual() ? parseDouble(text) : null;
            if (parsed == null) throw new ConfigException(path, "expected a number, found " + describe(value));
            return DoubleNode.valueOf(parsed);
        }
        if (schema.isBoolean()) {
            if (value.isBoolean()) return value;
            if (text.equals("true") || text.equals("false")) return BooleanNode.valueOf(text.equals("true"));
            throw new ConfigException(path, "expected true or false, found " + describe(value));
        }
        return TextNode.valueOf(text); // strings and enum names; enum names are checked when the record is built
    }

    private static Long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Double parseDouble(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String kind(JsonNode schema) {
        return schema.isInt() ? "an integer (int32)" : schema.isIntegralNumber() ? "an integer" : "a value";
    }

    private static String describe(JsonNode value) {
        if (value.isObject()) return "a section " + keys(value);
        if (value.isArray()) return "a list";
        if (value.isNull() || value.isMissingNode()) return "null";
        return value.isTextual() ? "'" + value.asText() + "'" : value.toString();
    }

    private static List<String> keys(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
