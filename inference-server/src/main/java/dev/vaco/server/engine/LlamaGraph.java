package dev.vaco.server.engine;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.lora.LoraTarget;
import dev.vaco.server.engine.OnnxGraphBuilder.Attr;

import java.util.ArrayList;
import java.util.List;

/**
 * The ONNX graph of a Llama / Qwen2 decoder with Hugging Face numerics, built from a {@link ModelConfig}. Weights are
 * external initializers named as in HF checkpoints (plus the derived tensors of {@link SessionWeights}); the graph
 * itself holds no parameters.
 *
 * <p>Legend: B rows, T new tokens per row, N = B*T, P logit positions per row, H hidden, I MLP size, NH/KVH heads,
 * hd head dim, V vocab, Cap KV capacity, L layers.
 *
 * <p>Inputs:
 * <ul>
 *   <li>{@code input_ids} int64 [B, T]: the new tokens of each row</li>
 *   <li>{@code logit_idx} int64 [B, P]: which of the T positions of each row get logits (lm_head runs on B*P rows
 *       only, so a decode step or a last-token prefill does not pay for T*V logits)</li>
 *   <li>{@code seqlens_k} int32 [B]: per row, (tokens in cache after this step) - 1; GQA derives each token's
 *       rotary position and causal limit from it, so rows may have different lengths (ragged, right-padded KV)</li>
 *   <li>{@code total_seq_len} int32 []: max over rows of (tokens in cache after this step)</li>
 *   <li>{@code past_key.l}, {@code past_value.l} fp32 [B, KVH, Cap, hd]: the cache, also bound as the pinned
 *       {@code present_*.l} output so that GQA appends the new K/V in place (past and present share a buffer)</li>
 * </ul>
 * With {@link GraphOptions#lora()}: {@code lora.l.q_proj.A} fp32 [R, in] and {@code lora.l.q_proj.B} [out, R] for each
 * layer l and each of the seven projections ({@link #loraA}, {@link #loraB}); each projection computes
 * {@code y = x W^T + (x A^T) B^T}, the adapter's scaling folded into B by whoever binds the inputs ({@link AdapterInputs}).
 *
 * With {@link GraphOptions#quantization()}: every projection weight ({@link #quantized}) is declared as MatMulNBits'
 * three initializers ({@link OnnxGraphBuilder#externalNBits}, made by {@link BlockQuantizer}) instead of fp32, and its
 * Gemm becomes a MatMulNBits; inputs and outputs are unchanged.
 *
 * <p>Outputs: {@code logits} fp32 [B, P, V]; {@code present_key.l}, {@code present_value.l} fp32 [B, KVH, Cap, hd].
 */
public final class LlamaGraph {
    public static final String INPUT_IDS = "input_ids";
    public static final String LOGIT_IDX = "logit_idx";
    public static final String SEQLENS_K = "seqlens_k";
    public static final String TOTAL_SEQ_LEN = "total_seq_len";
    public static final String LOGITS = "logits";
    /** Rotary tables [maxPositionEmbeddings, hd/2], supplied by {@link SessionWeights}. */
    static final String COS_CACHE = "vaco.rotary.cos";
    static final String SIN_CACHE = "vaco.rotary.sin";

    /** lm_head's quantized copy when the head is quantized and tied to the embedding (the Gather keeps the fp32 table). */
    static final String QUANTIZED_TIED_HEAD = "vaco.lm_head.weight";

    private LlamaGraph() {}

    /**
     * Whether the weight {@code name} (HF's, a packed q|k|v or {@link #QUANTIZED_TIED_HEAD}) is multiplied block-quantized
     * under {@code q}: the projections of every layer, and lm_head with {@link Quantization#head()}; never the embedding,
     * norms or biases.
     */
    static boolean quantized(String name, Quantization q) {
        if (!q.enabled()) return false;
        if (name.equals("lm_head.weight") || name.equals(QUANTIZED_TIED_HEAD)) return q.head();
        return name.startsWith("model.layers.") && name.endsWith("_proj.weight");
    }

    /** The [V, H] weight lm_head multiplies by. */
    static String headWeight(ModelConfig c, Quantization q) {
        if (!c.tieWordEmbeddings()) return "lm_head.weight";
        return quantized(QUANTIZED_TIED_HEAD, q) ? QUANTIZED_TIED_HEAD : "model.embed_tokens.weight";
    }

    public static String pastKey(int layer) { return "past_key." + layer; }
    public static String pastValue(int layer) { return "past_value." + layer; }
    public static String presentKey(int layer) { return "present_key." + layer; }
    public static String presentValue(int layer) { return "present_value." + layer; }
    /** LoRA input A [R, in] of {@code target} in {@code layer}. */
    public static String loraA(int layer, LoraTarget target) { return "lora." + layer + "." + target.moduleName() + ".A"; }
    /** LoRA input B [out, R] (scaling folded in) of {@code target} in {@code layer}. */
    public static String loraB(int layer, LoraTarget target) { return "lora." + layer + "." + target.moduleName() + ".B"; }

    /** Name of the packed [q+2kv, H] projection made by {@link SessionWeights} when {@link GraphOptions#packedQkv()}. */
    static String packedQkv(int layer, String suffix) {
        return "model.layers." + layer + ".self_attn.qkv_proj." + suffix;
    }

    /**
     * Attention's 1/sqrt(hd). With a packed q|k|v projection it is folded into the q rows ({@link SessionWeights})
     * and GQA runs with scale 1: ORT's CPU kernel computes q K^T one (row, head) at a time, and only with alpha == 1
     * does MLAS take its single-row kernel instead of repacking K for every head (22-31% less attention time at batch 64,
     * docs/bench/ort.md). Rotary is linear, so scaling q before it is the same function; for hd = 64 the factor is a
     * power of two and the folding is exact.
     */
    static float queryScale(ModelConfig c) {
        return (float) (1.0 / Math.sqrt(c.headDim()));
    }

    /** The whole decoder, in this node order: inputs and outputs, weights, embedding, the layers, lm_head. */
    public static ModelProto build(ModelConfig c, GraphOptions options) {
        OnnxGraphBuilder g = new OnnxGraphBuilder("vaco_" + c.modelType() + "_decoder");
        float eps = (float) c.rmsNormEps(); // HF adds the Python float to an fp32 tensor: it is rounded to fp32 too
        declareInputsOutputs(g, c, options);
        declareWeights(g, c, options);

        // ---- shapes computed once: [B, T, -1] to enter GQA, [-1, X] to leave it
        String idsShape = g.op("Shape", List.of(INPUT_IDS));                                    // [2] = B, T
        String btAny = g.op("Concat", List.of(idsShape, g.constVector("minus1", -1)), Attr.i("axis", 0)); // [B, T, -1]

        // ---- embedding: tokens flattened so that every matmul is a 2-D Gemm on N rows
        String flatIds = g.op("Reshape", List.of(INPUT_IDS, g.constVector("flat", -1)));     // [N]
        String hidden = g.op("Gather", List.of("model.embed_tokens.weight", flatIds), Attr.i("axis", 0)); // [N, H]
        String normed = rmsNorm(g, options, hidden, "model.layers.0.input_layernorm.weight", eps);

        Rotary rotary = new Rotary(idsShape, options.gqaRotary(c.headDim())
                ? null : rotaryAtPositions(g, idsShape));
        int layers = c.numHiddenLayers();
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            String o = attention(g, c, options, l, normed, btAny, rotary);                     // [N, H]

            // ---- residual + post-attention norm, SwiGLU MLP
            String[] resNorm = skipRmsNorm(g, options, o, hidden, p + "post_attention_layernorm.weight", eps);
            hidden = resNorm[1];                                                               // [N, H] residual stream
            String down = mlp(g, options, l, resNorm[0]);                                      // [N, H]

            String nextNorm = l + 1 < layers ? "model.layers." + (l + 1) + ".input_layernorm.weight" : "model.norm.weight";
            String[] next = skipRmsNorm(g, options, down, hidden, nextNorm, eps);
            normed = next[0];
            hidden = next[1];
        }
        lmHead(g, c, options, normed, btAny);
        return g.build();
    }

    private static void declareInputsOutputs(OnnxGraphBuilder g, ModelConfig c, GraphOptions options) {
        int layers = c.numHiddenLayers(), hd = c.headDim();
        g.input(INPUT_IDS, DataType.INT64, "B", "T");
        g.input(LOGIT_IDX, DataType.INT64, "B", "P");
        g.input(SEQLENS_K, DataType.INT32, "B");
        g.input(TOTAL_SEQ_LEN, DataType.INT32);
        for (int l = 0; l < layers; l++) {
            g.input(pastKey(l), DataType.FLOAT, "B", (long) c.numKeyValueHeads(), "Cap", (long) hd);
            g.input(pastValue(l), DataType.FLOAT, "B", (long) c.numKeyValueHeads(), "Cap", (long) hd);
        }
        if (options.lora()) {
            for (int l = 0; l < layers; l++) {
                for (LoraTarget t : LoraTarget.values()) {
                    g.input(loraA(l, t), DataType.FLOAT, (long) options.loraRank(), (long) t.inFeatures(c));
                    g.input(loraB(l, t), DataType.FLOAT, (long) t.outFeatures(c), (long) options.loraRank());
                }
            }
        }
        g.output(LOGITS, DataType.FLOAT, "B", "P", (long) c.vocabSize());
        for (int l = 0; l < layers; l++) {
            g.output(presentKey(l), DataType.FLOAT, "B", (long) c.numKeyValueHeads(), "Cap", (long) hd);
            g.output(presentValue(l), DataType.FLOAT, "B", (long) c.numKeyValueHeads(), "Cap", (long) hd);
        }
    }

    /** External weights under their HF names; with a packed q|k|v the separate projections give way to it. */
    private static void declareWeights(OnnxGraphBuilder g, ModelConfig c, GraphOptions options) {
        int q = c.qDim(), kv = c.kvDim(), h = c.hiddenSize(), hd = c.headDim();
        var shapes = c.tensorShapes();
        for (var e : shapes.entrySet()) {
            String name = e.getKey();
            boolean qkvPart = name.contains(".self_attn.q_proj.") || name.contains(".self_attn.k_proj.")
                    || name.contains(".self_attn.v_proj.");
            if (options.packedQkv() && qkvPart) continue;
            long[] shape = e.getValue();
            if (quantized(name, options.quantization())) g.externalNBits(name, shape[0], shape[1], options.quantization());
            else g.externalFloat(name, shape);
        }
        if (quantized(QUANTIZED_TIED_HEAD, options.quantization()) && c.tieWordEmbeddings()) {
            g.externalNBits(QUANTIZED_TIED_HEAD, c.vocabSize(), h, options.quantization());
        }
        if (options.packedQkv()) {
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                String packed = packedQkv(l, "weight");
                if (quantized(packed, options.quantization())) g.externalNBits(packed, q + 2L * kv, h, options.quantization());
                else g.externalFloat(packed, q + 2L * kv, h);
                if (c.qkvBias()) g.externalFloat(packedQkv(l, "bias"), q + 2L * kv);
            }
        }
        g.externalFloat(COS_CACHE, c.maxPositionEmbeddings(), hd / 2);
        g.externalFloat(SIN_CACHE, c.maxPositionEmbeddings(), hd / 2);
    }

    /**
     * Where rotary is applied: {@code cosSin} null when GQA does it ({@code do_rotary}), otherwise the tables at the
     * new tokens' positions for {@link #rope}; {@code idsShape} is input_ids' shape [2] = B, T.
     */
    private record Rotary(String idsShape, String[] cosSin) {
        boolean inGqa() { return cosSin == null; }
    }

    /**
     * One attention block: q/k/v projections, then GQA (rotary on q and k unless done before it, cache append, causal
     * softmax, @V), then o_proj. {@code normed} [N, H] is the layer's input norm; returns [N, H].
     */
    private static String attention(OnnxGraphBuilder g, ModelConfig c, GraphOptions options, int l, String normed,
                                    String btAny, Rotary rotary) {
        String p = "model.layers." + l + ".";
        int q = c.qDim();
        List<String> gqaInputs = new ArrayList<>(qkvForGqa(g, c, options, l, normed, btAny, rotary));
        gqaInputs.addAll(List.of(pastKey(l), pastValue(l), SEQLENS_K, TOTAL_SEQ_LEN));
        if (rotary.inGqa()) gqaInputs.addAll(List.of(COS_CACHE, SIN_CACHE));
        String attn = g.fresh("attn");
        g.nodeNamed(OnnxGraphBuilder.MS_DOMAIN, "GroupQueryAttention", gqaInputs,
                List.of(attn, presentKey(l), presentValue(l)),
                Attr.i("num_heads", c.numAttentionHeads()),
                Attr.i("kv_num_heads", c.numKeyValueHeads()),
                Attr.f("scale", options.packedQkv() ? 1.0f : queryScale(c)),
                Attr.i("do_rotary", rotary.inGqa() ? 1 : 0),
                // 0 = rotate-half (GPT-NeoX / HF Llama): pairs (i, i + hd/2), not (2i, 2i+1)
                Attr.i("rotary_interleaved", 0));                                         // [B, T, q]
        String attnFlat = g.op("Reshape", List.of(attn, g.constVector("rows_q", -1, q)));  // [N, q]
        String out = gemm(g, attnFlat, p + "self_attn.o_proj.weight", c.oBias() ? p + "self_attn.o_proj.bias" : null);
        return options.lora() ? plusLora(g, attnFlat, out, l, LoraTarget.O_PROJ) : out;
    }

    /**
     * GQA's first three inputs: the packed [B, T, q+2kv] projection and two empty names when GQA rotates and the
     * weights are packed; otherwise q, k, v as [B, T, q|kv] each, rotated here unless GQA does it.
     */
    private static List<String> qkvForGqa(OnnxGraphBuilder g, ModelConfig c, GraphOptions options, int l, String normed,
                                          String btAny, Rotary rotary) {
        String p = "model.layers." + l + ".";
        int q = c.qDim(), kv = c.kvDim(), hd = c.headDim();
        String qkvBias = c.qkvBias() ? packedQkv(l, "bias") : null;
        if (options.packedQkv() && rotary.inGqa()) {
            String qkv = packedLora(g, c, options, l, normed, gemm(g, normed, packedQkv(l, "weight"), qkvBias)); // [N, q+2kv]
            return List.of(g.op("Reshape", List.of(qkv, btAny)), "", "");                  // [B, T, q+2kv]
        }
        String[] qkv = new String[3];                                                     // [N, q], [N, kv], [N, kv]
        if (options.packedQkv()) {
            String packed = packedLora(g, c, options, l, normed, gemm(g, normed, packedQkv(l, "weight"), qkvBias));
            List<String> parts = g.ops("Split", List.of(packed, g.constVector("qkv_split", q, kv, kv)), 3,
                    Attr.i("axis", 1));
            for (int i = 0; i < 3; i++) qkv[i] = parts.get(i);
        } else {
            String[] projs = {"q_proj", "k_proj", "v_proj"};
            LoraTarget[] targets = {LoraTarget.Q_PROJ, LoraTarget.K_PROJ, LoraTarget.V_PROJ};
            for (int i = 0; i < 3; i++) {
                qkv[i] = gemm(g, normed, p + "self_attn." + projs[i] + ".weight",
                        c.qkvBias() ? p + "self_attn." + projs[i] + ".bias" : null);
                if (options.lora()) qkv[i] = plusLora(g, normed, qkv[i], l, targets[i]);
            }
        }
        if (!rotary.inGqa()) {
            qkv[0] = rope(g, qkv[0], c.numAttentionHeads(), hd, rotary.idsShape(), rotary.cosSin());
            qkv[1] = rope(g, qkv[1], c.numKeyValueHeads(), hd, rotary.idsShape(), rotary.cosSin());
        }
        List<String> out = new ArrayList<>();
        for (String x : qkv) out.add(g.op("Reshape", List.of(x, btAny)));                 // [B, T, q|kv]
        return out;
    }

    /** SwiGLU MLP: down(silu(gate(x)) * up(x)); x [N, H] -> [N, H], the gate and up activations [N, I]. */
    private static String mlp(OnnxGraphBuilder g, GraphOptions o, int l, String x) {
        String p = "model.layers." + l + ".";
        String gate = gemm(g, x, p + "mlp.gate_proj.weight", null);                        // [N, I]
        String up = gemm(g, x, p + "mlp.up_proj.weight", null);                            // [N, I]
        if (o.lora()) {
            gate = plusLora(g, x, gate, l, LoraTarget.GATE_PROJ);
            up = plusLora(g, x, up, l, LoraTarget.UP_PROJ);
        }
        String silu = g.op("Mul", List.of(gate, g.op("Sigmoid", List.of(gate))));
        String act = g.op("Mul", List.of(silu, up));                                       // [N, I]
        String down = gemm(g, act, p + "mlp.down_proj.weight", null);                      // [N, H]
        return o.lora() ? plusLora(g, act, down, l, LoraTarget.DOWN_PROJ) : down;
    }

    /**
     * {@code base + (x A^T) B^T}: the rank-R side first ([N, R]), then one Gemm whose C input adds the base output
     * ({@code base} [N, out] = x W^T (+ b)), so the adapter costs two thin matmuls and no separate Add.
     */
    private static String plusLora(OnnxGraphBuilder g, String x, String base, int l, LoraTarget t) {
        String xa = g.op("Gemm", List.of(x, loraA(l, t)), Attr.i("transB", 1));                   // [N, R]
        return g.op("Gemm", List.of(xa, loraB(l, t), base), Attr.i("transB", 1));                 // [N, out]
    }

    /**
     * The packed q|k|v output plus the three adapters' terms, concatenated in the same row order; the q term is
     * multiplied by the attention scale that {@link SessionWeights} folded into the packed q rows.
     */
    private static String packedLora(OnnxGraphBuilder g, ModelConfig c, GraphOptions o, int l, String x, String packed) {
        if (!o.lora()) return packed;
        String[] terms = new String[3];
        LoraTarget[] targets = {LoraTarget.Q_PROJ, LoraTarget.K_PROJ, LoraTarget.V_PROJ};
        for (int i = 0; i < 3; i++) {
            String xa = g.op("Gemm", List.of(x, loraA(l, targets[i])), Attr.i("transB", 1));      // [N, R]
            terms[i] = g.op("Gemm", List.of(xa, loraB(l, targets[i])), Attr.i("transB", 1));      // [N, q|kv]
        }
        terms[0] = g.op("Mul", List.of(terms[0], g.constFloat("qscale", queryScale(c))));
        String delta = g.op("Concat", List.of(terms), Attr.i("axis", 1));                          // [N, q+2kv]
        return g.op("Add", List.of(packed, delta));
    }

    /** lm_head on the requested positions only: {@code normed} [N, H] -> the {@code logits} output [B, P, V]. */
    private static void lmHead(OnnxGraphBuilder g, ModelConfig c, GraphOptions o, String normed, String btAny) {
        String normed3 = g.op("Reshape", List.of(normed, btAny));                                  // [B, T, H]
        String idx3 = g.op("Unsqueeze", List.of(LOGIT_IDX, g.constVector("axis2", 2)));            // [B, P, 1]
        String picked = g.op("GatherND", List.of(normed3, idx3), Attr.i("batch_dims", 1));         // [B, P, H]
        String pickedFlat = g.op("Reshape", List.of(picked, g.constVector("rows_h", -1, c.hiddenSize()))); // [B*P, H]
        String logits = gemm(g, pickedFlat, headWeight(c, o.quantization()), null);                // [B*P, V]
        String bpAny = g.op("Concat", List.of(g.op("Shape", List.of(LOGIT_IDX)), g.constVector("minus1", -1)),
                Attr.i("axis", 0));
        g.nodeNamed("", "Reshape", List.of(logits, bpAny), List.of(LOGITS));                       // [B, P, V]
    }

    /**
     * cos and sin at each new token's position, [B, T, 1, hd/2] each (broadcast over heads). Position of token t of
     * row b: max(seqlens_k[b] + 1 - T, 0) + t, the rule GQA uses: the new tokens are the last T of each row, except in
     * a batched first prompt, where rows shorter than T are right-padded and start at position 0.
     */
    private static String[] rotaryAtPositions(OnnxGraphBuilder g, String idsShape) {
        String t = g.op("Gather", List.of(idsShape, g.constInts("one", new long[0], 1)), Attr.i("axis", 0)); // T, scalar
        String lens = g.op("Cast", List.of(SEQLENS_K), Attr.i("to", DataType.INT64.getNumber()));             // [B]
        String start = g.op("Max", List.of(g.op("Sub", List.of(g.op("Add", List.of(lens, g.constInts("one", new long[0], 1))), t)),
                g.constInts("zero", new long[0], 0)));                                                            // [B]
        String steps = g.op("Range", List.of(g.constInts("zero", new long[0], 0), t, g.constInts("one", new long[0], 1))); // [T]
        String pos = g.op("Add", List.of(g.op("Unsqueeze", List.of(start, g.constVector("axis1", 1))), steps)); // [B, T]
        String[] out = new String[2];
        String[] tables = {COS_CACHE, SIN_CACHE};
        for (int i = 0; i < 2; i++) {
            String at = g.op("Gather", List.of(tables[i], pos), Attr.i("axis", 0));                              // [B, T, hd/2]
            out[i] = g.op("Unsqueeze", List.of(at, g.constVector("axis2", 2)));                                   // [B, T, 1, hd/2]
        }
        return out;
    }

    /** HF rotate-half rotary: x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x2, x1); x [N, heads*hd] -> [B, T, heads*hd]. */
    private static String rope(OnnxGraphBuilder g, String x, int heads, int hd, String idsShape, String[] cosSin) {
        String shape4 = g.op("Concat", List.of(idsShape, g.constVector("heads_hd", heads, hd)), Attr.i("axis", 0));
        String x4 = g.op("Reshape", List.of(x, shape4));                                          // [B, T, heads, hd]
        List<String> halves = g.ops("Split", List.of(x4, g.constVector("halves", hd / 2, hd / 2)), 2, Attr.i("axis", 3));
        String x1 = halves.get(0), x2 = halves.get(1), cos = cosSin[0], sin = cosSin[1];
        String r1 = g.op("Sub", List.of(g.op("Mul", List.of(x1, cos)), g.op("Mul", List.of(x2, sin))));
        String r2 = g.op("Add", List.of(g.op("Mul", List.of(x2, cos)), g.op("Mul", List.of(x1, sin))));
        return g.op("Concat", List.of(r1, r2), Attr.i("axis", 3));                              // [B, T, heads, hd]
    }

    /**
     * y = x W^T (+ b): HF's nn.Linear with W in [out, in] layout; Gemm(transB=1) prepacks W at session creation, a
     * quantized W ({@link #quantized}) is a MatMulNBits ({@link OnnxGraphBuilder#linear}).
     */
    private static String gemm(OnnxGraphBuilder g, String x, String weight, String bias) {
        return g.linear(x, weight, bias);
    }

    /** HF LlamaRMSNorm in fp32: x * rsqrt(mean(x^2) + eps) * w over the last axis. */
    private static String rmsNorm(OnnxGraphBuilder g, GraphOptions o, String x, String weight, float eps) {
        if (o.fusedNorms()) {
            return g.op("SimplifiedLayerNormalization", List.of(x, weight),
                    Attr.i("axis", -1), Attr.f("epsilon", eps), Attr.i("stash_type", 1));
        }
        String meanSq = g.op("ReduceMean", List.of(g.op("Mul", List.of(x, x))), Attr.ints("axes", -1), Attr.i("keepdims", 1));
        String std = g.op("Sqrt", List.of(g.op("Add", List.of(meanSq, floatScalar(g, eps)))));
        return g.op("Mul", List.of(g.op("Div", List.of(x, std)), weight));
    }

    /** Residual add then RMSNorm: returns {normed, sum}; sum = x + residual is the new residual stream. */
    private static String[] skipRmsNorm(OnnxGraphBuilder g, GraphOptions o, String x, String residual, String weight, float eps) {
        if (o.fusedNorms()) {
            // outputs: output, mean (unused), inv_std_var (unused), input_skip_bias_sum
            List<String> outs = g.msOp("SkipSimplifiedLayerNormalization", List.of(x, residual, weight),
                    new boolean[] {true, false, false, true}, Attr.f("epsilon", eps));
            return new String[] {outs.get(0), outs.get(3)};
        }
        String sum = g.op("Add", List.of(residual, x));
        return new String[] {rmsNorm(g, o, sum, weight, eps), sum};
    }

    private static String floatScalar(OnnxGraphBuilder g, float v) {
        return g.constFloat("eps", v);
    }
}
