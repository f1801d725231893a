package dev.vaco.model.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.model.ConfigException;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelFormatException;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's adapter directory, so that {@code peft} ({@code PeftModel.from_pretrained}) and vLLM take vaco's adapters as
 * they are and vaco takes theirs: {@code adapter_config.json} ({@code peft_type} LORA, {@code r}, {@code lora_alpha},
 * {@code target_modules}, ...) and {@code adapter_model.safetensors} with PEFT's tensor names
 * ({@link LoraTarget#peftName}: {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight} {@code [r, in]},
 * {@code ...lora_B.weight} {@code [out, r]}).
 *
 * <p>Reading accepts what vaco can apply exactly and refuses the rest, naming the file and the tensor or field:
 * a missing or mis-shaped tensor, a tensor of no targeted module, an unknown target module, per-module ranks or
 * alphas, DoRA, trained biases.
 */
public final class AdapterFiles {
    public static final String CONFIG = "adapter_config.json", WEIGHTS = "adapter_model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** PEFT's name of a LoRA tensor: module (group 1) and matrix A or B (group 2). */
    private static final Pattern PEFT_NAME =
            Pattern.compile("base_model\\.model\\.model\\.layers\\.\\d+\\.(?:self_attn|mlp)\\.(\\w+)\\.lora_([AB])\\.weight");

    private AdapterFiles() {}

    /** An adapter: its settings, the base it was trained on (a path or Hub name, may be empty), PEFT-named tensors. */
    public record Adapter(LoraConfig config, String baseModel, Map<String, Tensor> tensors) {}

    /** Whether {@code dir} holds an adapter (its {@code adapter_config.json}). */
    public static boolean isAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG));
    }

    public static void write(Path dir, Adapter adapter) throws IOException {
        Files.createDirectories(dir);
        LoraConfig c = adapter.config();
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", "LORA").put("task_type", "CAUSAL_LM").put("r", c.r()).put("lora_alpha", c.alpha())
                .put("lora_dropout", c.dropout()).put("bias", "none").put("fan_in_fan_out", false)
                .put("use_rslora", c.useRslora()).put("use_dora", false).put("inference_mode", true)
                .put("init_lora_weights", true).put("base_model_name_or_path", adapter.baseModel());
        ArrayNode targets = o.putArray("target_modules");
        for (LoraTarget t : c.targets()) targets.add(t.moduleName());
        Files.writeString(dir.resolve(CONFIG), o.toPrettyString() + "\n");
        Safetensors.write(dir.resolve(WEIGHTS), adapter.tensors().values(), Map.of("format", "pt"),
                Safetensors.DType.F32);
    }

    /** Reads and checks an adapter for a base model of shape {@code model}. */
    public static Adapter read(Path dir, ModelConfig model) {
        Path cf = dir.resolve(CONFIG), wf = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cf)) throw new ModelFormatException(cf + ": no such file (not a PEFT adapter directory)");
        if (!Files.isRegularFile(wf)) throw new ModelFormatException(wf + ": no such file");
        JsonNode j = json(cf);
        LoraConfig c = config(j, cf);
        return new Adapter(c, j.path("base_model_name_or_path").asText(""), checked(Safetensors.read(wf), c, model, wf.toString()));
    }

    /** Whether {@code names} are those of an adapter (PEFT's {@code base_model.model.} prefix), not of a model. */
    public static boolean isAdapterImage(Set<String> names) {
        return !names.isEmpty() && names.stream().allMatch(n -> n.startsWith("base_model.model."));
    }

    /**
     * An adapter sent as its tensors alone (a weight push): the rank and the targeted modules from PEFT's tensor names
     * and shapes, {@code alpha} given (with {@code alpha == r} the scaling is 1: B already carries it).
     *
     * @throws ModelFormatException a tensor that is not a LoRA tensor, a missing or mis-shaped one, naming {@code origin}
     */
    public static Adapter fromTensors(Map<String, Tensor> tensors, Double alpha, ModelConfig model, String origin) {
        Set<String> modules = new TreeSet<>();
        int r = -1;
        for (var e : tensors.entrySet()) {
            Matcher m = PEFT_NAME.matcher(e.getKey());
            if (!m.matches() || LoraTarget.byModuleName(m.group(1)) == null) {
                throw new ModelFormatException(origin + ": tensor '" + e.getKey() + "' is not a LoRA tensor in PEFT's names "
                        + "(base_model.model.model.layers.{i}.{self_attn|mlp}.{q_proj|...}.lora_{A|B}.weight)");
            }
            modules.add(m.group(1));
            if (m.group(2).equals("A")) r = (int) e.getValue().shape()[0];
        }
        LoraConfig c;
        try {
            c = new LoraConfig(Math.max(r, 0), alpha == null ? Math.max(r, 1) : alpha, 0, String.join(",", modules), false, false);
        } catch (ConfigException e) {
            throw new ModelFormatException(origin + ": " + e.getMessage(), e);
        }
        if (r < 1) throw new ModelFormatException(origin + ": no lora_A tensor (an adapter of rank >= 1)");
        return new Adapter(c, "", checked(new LinkedHashMap<>(tensors), c, model, origin));
    }

    /** Takes every tensor {@code c} needs out of {@code found} (checking shapes) and refuses what is left over. */
    private static Map<String, Tensor> checked(Map<String, Tensor> found, LoraConfig c, ModelConfig model, String wf) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int l = 0; l < model.numHiddenLayers(); l++) {
            for (LoraTarget t : c.targets()) {
                tensors.put(t.peftName(l, "A"), take(found, t.peftName(l, "A"), t.shapeA(model, c.r()), wf));
                tensors.put(t.peftName(l, "B"), take(found, t.peftName(l, "B"), t.shapeB(model, c.r()), wf));
            }
        }
        if (!found.isEmpty()) {
            throw new ModelFormatException(wf + ": tensor '" + found.keySet().iterator().next()
                    + "' belongs to no targeted module of " + c.targets() + " in a " + model.numHiddenLayers()
                    + "-layer model");
        }
        return tensors;
    }

    private static Tensor take(Map<String, Tensor> found, String name, long[] shape, String file) {
        Tensor t = found.remove(name);
        if (t == null) throw new ModelFormatException(file + ": tensor '" + name + "' is missing");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException(file + ": tensor '" + name + "' has shape " + t.shapeString()
                    + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    private static JsonNode json(Path file) {
        try {
            return JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read as JSON: " + e.getMessage(), e);
        }
    }

    /** The settings of an {@code adapter_config.json} ({@code j}, read from {@code file}). */
    private static LoraConfig config(JsonNode j, Path file) {
        expect(file, j, "peft_type", "LORA", null);
        expect(file, j, "bias", "none", "none"); // absent: PEFT's default
        if (j.path("fan_in_fan_out").asBoolean(false)) refuse(file, j, "fan_in_fan_out", "false");
        if (j.path("use_dora").asBoolean(false)) refuse(file, j, "use_dora", "false (DoRA is not LoRA)");
        for (String f : new String[] {"rank_pattern", "alpha_pattern"}) {
            if (j.path(f).size() > 0) refuse(file, j, f, "empty (one rank and alpha for every module)");
        }
        if (!j.path("layers_to_transform").isMissingNode() && !j.path("layers_to_transform").isNull()) {
            refuse(file, j, "layers_to_transform", "null (every layer)");
        }
        JsonNode tm = j.path("target_modules");
        String targets;
        if (tm.isArray()) {
            StringBuilder sb = new StringBuilder();
            tm.forEach(n -> sb.append(sb.isEmpty() ? "" : ",").append(n.asText()));
            targets = sb.toString();
        } else if (tm.isTextual()) {
            targets = tm.asText();
        } else {
            throw new ModelFormatException(file + ": target_modules: expected a list or \"all-linear\", found " + tm);
        }
        try {
            return new LoraConfig(j.path("r").asInt(-1), j.path("lora_alpha").asDouble(-1),
                    j.path("lora_dropout").asDouble(0), targets, j.path("use_rslora").asBoolean(false), false);
        } catch (ConfigException e) {
            // "lora.r: expected ..." -> "<file>: r: expected ...": the file's own field names
            String field = switch (e.keyPath()) {
                case "lora.alpha" -> "lora_alpha";
                case "lora.dropout" -> "lora_dropout";
                case "lora.target_modules" -> "target_modules";
                default -> e.keyPath().substring("lora.".length());
            };
            throw new ModelFormatException(file + ": " + field + e.getMessage().substring(e.keyPath().length()), e);
        }
    }

    private static void expect(Path file, JsonNode j, String field, String value, String absent) {
        if (!j.path(field).asText(absent == null ? "" : absent).equals(value)) refuse(file, j, field, "\"" + value + "\"");
    }

    private static void refuse(Path file, JsonNode j, String field, String expected) {
        throw new ModelFormatException(file + ": " + field + ": expected " + expected + " (what vaco applies), found "
                + j.path(field));
    }
}
