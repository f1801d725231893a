package dev.vaco.model.lora;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code lora.*}: low-rank adapters (Hu et al., arXiv 2106.09685) with PEFT's settings and defaults. For each targeted
 * linear layer {@code y = x W^T} the learner trains {@code y += scaling * dropout(x) A^T B^T}, {@code A [r, in]},
 * {@code B [out, r]}, with the base frozen.
 *
 * @param r             rank; 0 = LoRA off, every parameter trained [0]
 * @param alpha         PEFT's {@code lora_alpha} [8, PEFT's]
 * @param dropout       PEFT's {@code lora_dropout}, on the adapter's input while gradients are recorded [0.0]
 * @param targetModules comma list of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, or PEFT's
 *                      {@code all-linear} (all seven; never lm_head) [q_proj,v_proj, PEFT's default for Llama / Qwen2]
 * @param useRslora     PEFT's {@code use_rslora}: scaling alpha / sqrt(r) instead of alpha / r [false]
 * @param saveMerged    a LoRA run's final export also writes the merged full model to {@code final-model/} [false]
 */
public record LoraConfig(int r, double alpha, double dropout, String targetModules, boolean useRslora,
                         boolean saveMerged) {
    public static final String ALL_LINEAR = "all-linear";

    public LoraConfig {
        require(r >= 0, "lora.r", "an integer >= 0 (0 = off)", r);
        require(alpha > 0 && Double.isFinite(alpha), "lora.alpha", "a finite number > 0", alpha);
        require(dropout >= 0 && dropout < 1, "lora.dropout", "a number in [0, 1)", dropout);
        require(targetModules != null, "lora.target_modules", "a comma list of modules", null);
        parseTargets(targetModules, "lora.target_modules");
    }

    public static LoraConfig defaults() {
        return new LoraConfig(0, 8, 0.0, "q_proj,v_proj", false, false);
    }

    /** PEFT-style construction for tests and tools. */
    public static LoraConfig of(int r, double alpha, String targetModules) {
        return new LoraConfig(r, alpha, 0.0, targetModules, false, false);
    }

    public boolean enabled() {
        return r > 0;
    }

    /** PEFT's {@code scaling}: {@code lora_alpha / r}, or {@code lora_alpha / sqrt(r)} with rsLoRA. */
    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    /** The targeted modules in the decoder's order (q, k, v, o, gate, up, down). */
    public List<LoraTarget> targets() {
        return new ArrayList<>(parseTargets(targetModules, "lora.target_modules"));
    }

    /**
     * A {@code target_modules} value: a comma list of module names or {@code all-linear}. Refuses anything else
     * naming {@code origin} (the key, or the adapter_config.json that holds it).
     */
    public static Set<LoraTarget> parseTargets(String list, String origin) {
        EnumSet<LoraTarget> out = EnumSet.noneOf(LoraTarget.class);
        if (list.trim().equals(ALL_LINEAR)) return EnumSet.allOf(LoraTarget.class);
        for (String part : list.split(",")) {
            String name = part.trim();
            LoraTarget t = LoraTarget.byModuleName(name);
            require(t != null, origin, "modules among " + names() + " or " + ALL_LINEAR, "'" + name + "'");
            out.add(t);
        }
        return out;
    }

    private static List<String> names() {
        List<String> n = new ArrayList<>();
        for (LoraTarget t : LoraTarget.values()) n.add(t.moduleName());
        return n;
    }
}
