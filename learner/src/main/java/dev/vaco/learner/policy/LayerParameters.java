package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import dev.vaco.model.ModelConfig;

import java.util.Map;
import java.util.Objects;

/** One decoder layer's parameters, looked up once by Hugging Face name. Biases are null when the config has none. */
record LayerParameters(
        NDArray inputNorm,     // [H]
        NDArray qProj,         // [NH*hd, H]
        NDArray qBias,         // [NH*hd] or null
        NDArray kProj,         // [KVH*hd, H]
        NDArray kBias,         // [KVH*hd] or null
        NDArray vProj,         // [KVH*hd, H]
        NDArray vBias,         // [KVH*hd] or null
        NDArray oProj,         // [H, NH*hd]
        NDArray oBias,         // [H] or null
        NDArray postNorm,      // [H]
        NDArray gateProj,      // [I, H]
        NDArray upProj,        // [I, H]
        NDArray downProj) {    // [H, I]

    LayerParameters {
        Objects.requireNonNull(inputNorm);
        Objects.requireNonNull(qProj);
        Objects.requireNonNull(kProj);
        Objects.requireNonNull(vProj);
        Objects.requireNonNull(oProj);
        Objects.requireNonNull(postNorm);
        Objects.requireNonNull(gateProj);
        Objects.requireNonNull(upProj);
        Objects.requireNonNull(downProj);
    }

    static LayerParameters of(Map<String, NDArray> params, ModelConfig config, int layer) {
        String p = "model.layers." + layer + ".";
        boolean qkvBias = config.qkvBias(), oBias = config.oBias();
        return new LayerParameters(
                params.get(p + "input_layernorm.weight"),
                params.get(p + "self_attn.q_proj.weight"),
                qkvBias ? params.get(p + "self_attn.q_proj.bias") : null,
                params.get(p + "self_attn.k_proj.weight"),
                qkvBias ? params.get(p + "self_attn.k_proj.bias") : null,
                params.get(p + "self_attn.v_proj.weight"),
                qkvBias ? params.get(p + "self_attn.v_proj.bias") : null,
                params.get(p + "self_attn.o_proj.weight"),
                oBias ? params.get(p + "self_attn.o_proj.bias") : null,
                params.get(p + "post_attention_layernorm.weight"),
                params.get(p + "mlp.gate_proj.weight"),
                params.get(p + "mlp.up_proj.weight"),
                params.get(p + "mlp.down_proj.weight"));
    }
}
