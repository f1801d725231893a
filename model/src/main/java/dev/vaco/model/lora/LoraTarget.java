package dev.vaco.model.lora;

import dev.vaco.model.ModelConfig;

import java.util.Locale;

/**
 * The seven linear layers of a Llama / Qwen2 decoder layer that LoRA can adapt, under PEFT's module names. Each weight
 * is {@code [out, in]} as in Hugging Face checkpoints; its adapter is {@code A [r, in]} and {@code B [out, r]}.
 */
public enum LoraTarget {
    Q_PROJ("self_attn"), K_PROJ("self_attn"), V_PROJ("self_attn"), O_PROJ("self_attn"),
    GATE_PROJ("mlp"), UP_PROJ("mlp"), DOWN_PROJ("mlp");

    private final String block;

    LoraTarget(String block) {
        this.block = block;
    }

    /** PEFT's {@code target_modules} name: {@code q_proj}. */
    public String moduleName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The target named {@code q_proj} etc., or null. */
    public static LoraTarget byModuleName(String name) {
        for (LoraTarget t : values()) if (t.moduleName().equals(name)) return t;
        return null;
    }

    /** {@code model.layers.3.self_attn.q_proj}: the module path in the model (without {@code .weight}). */
    public String modulePath(int layer) {
        return "model.layers." + layer + "." + block + "." + moduleName();
    }

    /** The base weight this target adapts: {@code model.layers.3.self_attn.q_proj.weight}. */
    public String weightName(int layer) {
        return modulePath(layer) + ".weight";
    }

    /** PEFT's name of the adapter tensor ({@code "A"} or {@code "B"}) in {@code adapter_model.safetensors}. */
    public String peftName(int layer, String matrix) {
        return "base_model.model." + modulePath(layer) + ".lora_" + matrix + ".weight";
    }

    public int inFeatures(ModelConfig c) {
        return switch (this) {
            case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> c.hiddenSize();
            case O_PROJ -> c.numAttentionHeads() * c.headDim();
            case DOWN_PROJ -> c.intermediateSize();
        };
    }

    public int outFeatures(ModelConfig c) {
        return switch (this) {
            case Q_PROJ -> c.numAttentionHeads() * c.headDim();
            case K_PROJ, V_PROJ -> c.numKeyValueHeads() * c.headDim();
            case O_PROJ, DOWN_PROJ -> c.hiddenSize();
            case GATE_PROJ, UP_PROJ -> c.intermediateSize();
        };
    }

    /** {@code A [r, in]}. */
    public long[] shapeA(ModelConfig c, int r) {
        return new long[] {r, inFeatures(c)};
    }

    /** {@code B [out, r]}. */
    public long[] shapeB(ModelConfig c, int r) {
        return new long[] {outFeatures(c), r};
    }
}
