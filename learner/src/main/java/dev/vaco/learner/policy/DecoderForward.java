package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.ndarray.types.SparseFormat;
import dev.vaco.model.lora.LoraTarget;
import dev.vaco.model.ModelConfig;

import java.util.List;

/**
 * The Llama / Qwen2 forward pass of Hugging Face's {@code modeling_llama.py} (eager attention), in DJL ops.
 *
 * <p>Shape legend: B batch, T sequence, H hidden, I MLP, V vocabulary, NH query heads, KVH key/value heads,
 * hd head dim, R = NH / KVH queries per kv head.
 *
 * <p>Rules kept throughout (engine notes): no {@code NDArray.op(Number)} anywhere autograd can reach (scalars are
 * the 0-d libtorch-owned arrays held by the policy); the activation is the first operand where possible, so that
 * results belong to the input's manager. Every array created here (including the per-step weight concatenations,
 * which belong to the parameters' manager) is registered with the {@code NDScope} that {@link TorchPolicy} opens
 * around each call and closed when it returns; autograd keeps its own references to what backward needs.
 *
 * <p>LoRA ({@link LoraLayers}, when the policy has adapters): the low-rank terms of a fused group are added into the
 * fused GEMM's output in place before it is split, so the frozen base keeps its one GEMM per group.
 *
 * <p>Two fusions, both exact up to summation order: q/k/v and gate/up each run as one GEMM over weights
 * concatenated per step, and the attention scale 1/sqrt(hd) is folded into the query's rotary tables.
 *
 * <p>Padding: rows are right-padded. With the causal mask a real position t only attends to keys at positions
 * &lt;= t, which are all real, and its rotary position is t as it would be alone, so padding cannot change real
 * positions and no padding mask is needed (padded positions compute garbage the caller masks out of the loss).
 */
final class DecoderForward {
    private final ModelConfig config;
    private final NDArray embedTokens;         // [V, H]
    private final List<LayerParameters> layers;
    private final NDArray finalNorm;           // [H]
    private final NDArray lmHead;              // [V, H]; the same array as embedTokens when tied
    private final PositionTables tables;
    private final NDArray rmsEps;              // 0-d fp32
    private final LoraLayers adapters;         // LoRA on the linear layers, or null: the base alone

    DecoderForward(ModelConfig config, NDArray embedTokens, List<LayerParameters> layers, NDArray finalNorm,
                   NDArray lmHead, PositionTables tables, NDArray rmsEps, LoraLayers adapters) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.layers = List.copyOf(layers);
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.tables = tables;
        this.rmsEps = rmsEps;
        this.adapters = adapters;
    }

    /** tokens: int64 [B, T] in libtorch memory (embedding keeps it for backward). Returns logits [B, T, V]. */
    NDArray logits(NDArray tokens) {
        NDArray hidden = hiddenStates(tokens);                            // [B, T, H]
        return Linear.linear(hidden, lmHead).singletonOrThrow();          // [B, T, V]
    }

    NDArray hiddenStates(NDArray tokens) {
        Shape s = tokens.getShape();
        if (s.dimension() != 2) throw new IllegalArgumentException("tokens must be [B, T], found " + s);
        int b = (int) s.get(0), t = (int) s.get(1);
        Rotary rotary = new Rotary(tables.queryCos(t), tables.querySin(t), tables.cos(t), tables.sin(t));
        NDArray mask = tables.causalMask(t);                              // [T, T]
        NDArray x = Embedding.embedding(tokens, embedTokens, SparseFormat.DENSE).singletonOrThrow(); // [B, T, H]
        for (int l = 0; l < layers.size(); l++) {
            LayerParameters layer = layers.get(l);
            NDArray h = rmsNorm(x, layer.inputNorm());                    // [B, T, H]
            NDArray attn = attention(h, layer, l, b, t, rotary, mask);    // [B, T, H]
            x = x.add(attn);
            h = rmsNorm(x, layer.postNorm());                             // [B, T, H]
            x = x.add(mlp(h, layer, l));                                  // [B, T, H]
        }
        return rmsNorm(x, finalNorm);                                     // [B, T, H]
    }

    /** LlamaRMSNorm: {@code w * (x * rsqrt(mean(x^2, -1) + eps))}, fp32 throughout (x / sqrt(.) is within 1 ulp). */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray variance = x.square().mean(new int[] {-1}, true);        // [B, T, 1]
        NDArray rms = variance.add(rmsEps).sqrt();                        // [B, T, 1]
        return x.div(rms).mul(weight);                                    // [B, T, H] * [H]
    }

    /** [T, 1, hd] tables; the query pair carries the attention scale 1/sqrt(hd) (see PositionTables). */
    private record Rotary(NDArray cosQ, NDArray sinQ, NDArray cosK, NDArray sinK) {}

    private NDArray attention(NDArray h, LayerParameters p, int l, int b, int t, Rotary rotary, NDArray mask) {
        int nh = config.numAttentionHeads(), kvh = config.numKeyValueHeads(), hd = config.headDim();
        int r = nh / kvh;
        // One GEMM for q, k and v: the three weights are concatenated along the output axis for this step (a copy
        // of (NH+2KVH)*hd*H floats, small next to the GEMM), and autograd splits the gradient back per weight.
        NDArray qkv = adapt(linear(h, cat(p.qProj(), p.kProj(), p.vProj()),           // [B, T, (NH+2KVH)*hd]
                p.qBias() == null ? null : cat(p.qBias(), p.kBias(), p.vBias())), h, l,
                LoraTarget.Q_PROJ, LoraTarget.K_PROJ, LoraTarget.V_PROJ);
        NDList parts = qkv.split(new long[] {(long) nh * hd, (long) (nh + kvh) * hd}, 2);
        NDArray q = parts.get(0).reshape(b, t, nh, hd);                     // [B, T, NH*hd] -> [B, T, NH, hd]
        NDArray k = parts.get(1).reshape(b, t, kvh, hd);                    // [B, T, KVH*hd] -> [B, T, KVH, hd]
        NDArray v = parts.get(2).reshape(b, t, kvh, hd);                    // [B, T, KVH, hd]
        q = PositionTables.apply(q, rotary.cosQ(), rotary.sinQ())            // rope(q) / sqrt(hd)
                .transpose(0, 2, 1, 3);                                      // [B, NH, T, hd]
        k = PositionTables.apply(k, rotary.cosK(), rotary.sinK()).transpose(0, 2, 1, 3); // [B, KVH, T, hd]
        v = v.transpose(0, 2, 1, 3);                                         // [B, KVH, T, hd]
        // Grouped-query attention without materialising repeat_kv: query head n = g*R + j uses kv head g
        // (HF's repeat_kv order), so the R query heads of group g are stacked along the row axis of one matmul.
        NDArray qg = q.reshape(b, kvh, r * t, hd);                          // [B, NH, T, hd] -> [B, KVH, R*T, hd]
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2))                 // [B, KVH, R*T, T], already scaled
                .reshape(b, nh, t, t)                                       // [B, NH, T, T]
                .add(mask);                                                 // + [T, T]: -inf above the diagonal
        NDArray probs = scores.softmax(-1);                                 // [B, NH, T, T], fp32
        NDArray ctx = probs.reshape(b, kvh, r * t, t).matMul(v)             // [B, KVH, R*T, hd]
                .reshape(b, nh, t, hd)                                      // [B, NH, T, hd]
                .transpose(0, 2, 1, 3)                                      // [B, T, NH, hd]
                .reshape(b, t, nh * hd);                                    // [B, T, NH*hd]
        return adapt(linear(ctx, p.oProj(), p.oBias()), ctx, l, LoraTarget.O_PROJ); // [B, T, H]
    }

    /** LlamaMLP: {@code down(silu(gate(x)) * up(x))}, silu(g) = g * sigmoid(g). */
    private NDArray mlp(NDArray h, LayerParameters p, int l) {
        int i = config.intermediateSize();
        NDList gateUp = adapt(linear(h, cat(p.gateProj(), p.upProj()), null), h, l, // [B, T, 2I], one GEMM as for qkv
                LoraTarget.GATE_PROJ, LoraTarget.UP_PROJ).split(new long[] {i}, 2);
        NDArray gate = gateUp.get(0);                                       // [B, T, I]
        NDArray up = gateUp.get(1);                                         // [B, T, I]
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);           // [B, T, I]
        return adapt(linear(act, p.downProj(), null), act, l, LoraTarget.DOWN_PROJ); // [B, T, H]
    }

    /** A (fused) linear output {@code y} of input {@code x} with the LoRA terms of {@code group}, in place. */
    private NDArray adapt(NDArray y, NDArray x, int layer, LoraTarget... group) {
        return adapters == null ? y : adapters.adaptInPlace(y, x, layer, group);
    }

    /** Concatenation along axis 0 (the output axis of [out, in] weights, or of biases). */
    private static NDArray cat(NDArray... arrays) {
        return NDArrays.concat(new NDList(arrays), 0);
    }

    /** torch.nn.functional.linear: x @ W^T + b, W in [out, in] layout; leading axes are folded into one GEMM. */
    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
    }
}
