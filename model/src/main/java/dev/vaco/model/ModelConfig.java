package dev.vaco.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A decoder-only transformer of the Llama / Qwen2 family, as Hugging Face's {@code config.json} describes it.
 *
 * <p>Both engines build the same network from this record: the ONNX graph of the inference server and the
 * DJL module of the trainer. {@link #tensorShapes()} is the single list of parameters, with Hugging Face's names
 * and shapes (PyTorch {@code nn.Linear} layout: {@code [out_features, in_features]}).
 *
 * <p>Shape legend used across the project: {@code H} hidden size, {@code I} MLP size, {@code V} vocabulary,
 * {@code NH} query heads, {@code KVH} key/value heads, {@code hd} head dim, {@code L} layers.
 */
public record ModelConfig(
        String modelType,          // "llama" or "qwen2"
        int vocabSize,             // V
        int hiddenSize,            // H
        int intermediateSize,      // I
        int numHiddenLayers,       // L
        int numAttentionHeads,     // NH
        int numKeyValueHeads,      // KVH; NH % KVH == 0 (grouped-query attention)
        int headDim,               // hd; H / NH unless config.json says otherwise
        double rmsNormEps,
        double ropeTheta,
        int maxPositionEmbeddings, // context length the server enforces
        boolean tieWordEmbeddings, // lm_head shares model.embed_tokens.weight
        boolean attentionBias,     // llama: bias on q,k,v,o; qwen2: always bias on q,k,v, none on o
        int bosTokenId,            // -1 when absent
        int eosTokenId,            // -1 when absent
        RopeScaling ropeScaling) { // config.json's rope_scaling (Llama 3.1 / 3.2 use "llama3"); NONE when absent

    /**
     * {@code rope_scaling}: how the rotary frequencies are stretched for long contexts. Hugging Face's "linear"
     * divides every frequency by {@code factor}; "llama3" (Llama 3.1 / 3.2) divides the low frequencies by it, keeps
     * the high ones and interpolates in between. Types whose tables depend on the sequence length (dynamic, yarn,
     * longrope) are refused when a config is read, not silently computed as the default.
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings) {
        public static final List<String> SUPPORTED = List.of("default", "linear", "llama3"); // before NONE: it checks it
        public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);

        public RopeScaling {
            require(SUPPORTED.contains(type), "rope_scaling type must be one of " + SUPPORTED + ", found '" + type + "'");
            require(factor >= 1, "rope_scaling factor must be >= 1, found " + factor);
            if (type.equals("llama3")) {
                require(lowFreqFactor > 0 && highFreqFactor > lowFreqFactor,
                        "rope_scaling needs 0 < low_freq_factor < high_freq_factor, found " + lowFreqFactor + ", " + highFreqFactor);
                require(originalMaxPositionEmbeddings > 0,
                        "rope_scaling original_max_position_embeddings must be > 0, found " + originalMaxPositionEmbeddings);
            }
        }
    }

    /** A config without rope scaling (the built-in models, most tests). */
    public ModelConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                       int numAttentionHeads, int numKeyValueHeads, int headDim, double rmsNormEps, double ropeTheta,
                       int maxPositionEmbeddings, boolean tieWordEmbeddings, boolean attentionBias, int bosTokenId,
                       int eosTokenId) {
        this(modelType, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                headDim, rmsNormEps, ropeTheta, maxPositionEmbeddings, tieWordEmbeddings, attentionBias, bosTokenId,
                eosTokenId, RopeScaling.NONE);
    }

    public static final List<String> SUPPORTED_MODEL_TYPES = List.of("llama", "qwen2");
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelConfig {
        require(SUPPORTED_MODEL_TYPES.contains(modelType),
                "model_type must be one of " + SUPPORTED_MODEL_TYPES + ", found '" + modelType + "'");
        require(vocabSize > 0, "vocab_size must be > 0, found " + vocabSize);
        require(hiddenSize > 0, "hidden_size must be > 0, found " + hiddenSize);
        require(intermediateSize > 0, "intermediate_size must be > 0, found " + intermediateSize);
        require(numHiddenLayers > 0, "num_hidden_layers must be > 0, found " + numHiddenLayers);
        require(numAttentionHeads > 0, "num_attention_heads must be > 0, found " + numAttentionHeads);
        require(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0,
                "num_key_value_heads must divide num_attention_heads (" + numAttentionHeads + "), found " + numKeyValueHeads);
        require(headDim > 0 && headDim % 2 == 0, "head_dim must be even and > 0 (rotary pairs), found " + headDim);
        require(rmsNormEps > 0 && rmsNormEps < 1, "rms_norm_eps must be in (0, 1), found " + rmsNormEps);
        require(ropeTheta > 1, "rope_theta must be > 1, found " + ropeTheta);
        require(maxPositionEmbeddings > 1, "max_position_embeddings must be > 1, found " + maxPositionEmbeddings);
        require(bosTokenId < vocabSize && eosTokenId < vocabSize,
                "bos/eos token ids must be < vocab_size " + vocabSize + ", found " + bosTokenId + "/" + eosTokenId);
        require(ropeScaling != null, "rope_scaling must be given (RopeScaling.NONE for none)");
    }

    /**
     * The rotary inverse frequencies, [hd/2], in fp32 as Hugging Face computes them: {@code 1 / theta^(2i/hd)}, then
     * the {@link RopeScaling} ({@code _compute_linear_scaling_rope_parameters}, {@code _compute_llama3_parameters}:
     * every step an fp32 tensor operation, the Python scalars rounded to fp32). Both engines build their tables from
     * this one method.
     */
    public float[] ropeInverseFrequencies() {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) inv[i] = 1f / (float) Math.pow((float) ropeTheta, (float) (2 * i) / (float) headDim);
        float factor = (float) ropeScaling.factor();
        switch (ropeScaling.type()) {
            case "linear" -> { for (int i = 0; i < half; i++) inv[i] = inv[i] / factor; }
            case "llama3" -> {
                double old = ropeScaling.originalMaxPositionEmbeddings();
                float low = (float) ropeScaling.lowFreqFactor();
                float lowWavelen = (float) (old / ropeScaling.lowFreqFactor());
                float highWavelen = (float) (old / ropeScaling.highFreqFactor());
                float span = (float) (ropeScaling.highFreqFactor() - ropeScaling.lowFreqFactor());
                for (int i = 0; i < half; i++) {
                    float wavelen = (1f / inv[i]) * (float) (2 * Math.PI);      // 2 * pi / inv_freq
                    float scaled = wavelen > lowWavelen ? inv[i] / factor : inv[i];
                    if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) { // medium: interpolate
                        float smooth = ((1f / wavelen) * (float) old - low) / span;
                        scaled = (1f - smooth) * scaled / factor + smooth * scaled;
                    }
                    inv[i] = scaled;
                }
            }
            default -> { } // "default": as computed
        }
        return inv;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** Width of the query projection output: NH * hd. */
    public int qDim() { return numAttentionHeads * headDim; }

    /** Width of each of the key and value projection outputs: KVH * hd. */
    public int kvDim() { return numKeyValueHeads * headDim; }

    public boolean qkvBias() { return attentionBias || modelType.equals("qwen2"); }

    public boolean oBias() { return attentionBias && modelType.equals("llama"); }

    /** Every parameter the model has, in a stable order, by Hugging Face name, with its shape. */
    public Map<String, long[]> tensorShapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        long h = hiddenSize, i = intermediateSize, v = vocabSize, q = qDim(), kv = kvDim();
        s.put("model.embed_tokens.weight", new long[] {v, h});
        for (int l = 0; l < numHiddenLayers; l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "input_layernorm.weight", new long[] {h});
            s.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            s.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            s.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            if (qkvBias()) {
                s.put(p + "self_attn.q_proj.bias", new long[] {q});
                s.put(p + "self_attn.k_proj.bias", new long[] {kv});
                s.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            s.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            if (oBias()) s.put(p + "self_attn.o_proj.bias", new long[] {h});
            s.put(p + "post_attention_layernorm.weight", new long[] {h});
            s.put(p + "mlp.gate_proj.weight", new long[] {i, h});
            s.put(p + "mlp.up_proj.weight", new long[] {i, h});
            s.put(p + "mlp.down_proj.weight", new long[] {h, i});
        }
        s.put("model.norm.weight", new long[] {h});
        if (!tieWordEmbeddings) s.put("lm_head.weight", new long[] {v, h});
        return s;
    }

    public long parameterCount() {
        long n = 0;
        for (long[] shape : tensorShapes().values()) n += Tensor.numel(shape);
        return n;
    }

    /** Multiply-adds per token of one forward pass through the matmuls (excluding attention scores). */
    public long matmulFlopsPerToken() {
        long n = 0;
        for (var e : tensorShapes().entrySet()) {
            if (e.getValue().length == 2 && !e.getKey().equals("model.embed_tokens.weight")) n += Tensor.numel(e.getValue());
        }
        if (tieWordEmbeddings) n += (long) vocabSize * hiddenSize;
        return 2 * n;
    }

    // ---------------------------------------------------------------- config.json

    /** Reads {@code config.json}; every error names the file and the field. */
    public static ModelConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read config.json: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new ModelFormatException(file + ": expected a JSON object");
        try {
            String type = text(root, "model_type", null);
            if (type == null) throw new IllegalArgumentException("missing field 'model_type'");
            if (!SUPPORTED_MODEL_TYPES.contains(type)) {
                throw new IllegalArgumentException("unknown model_type '" + type + "'; supported: " + SUPPORTED_MODEL_TYPES);
            }
            // fields that would change the network: refused rather than computed as if absent
            String act = text(root, "hidden_act", "silu");
            if (!act.equals("silu")) throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (silu only)");
            if (bool(root, "use_sliding_window", false)) {
                throw new IllegalArgumentException("use_sliding_window true is not supported (full causal attention only)");
            }
            int hidden = integer(root, "hidden_size", null);
            int heads = integer(root, "num_attention_heads", null);
            int headDim = root.hasNonNull("head_dim") ? integer(root, "head_dim", null) : hidden / Math.max(heads, 1);
            if (!root.hasNonNull("head_dim") && hidden % heads != 0) {
                throw new IllegalArgumentException("hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
            }
            return new ModelConfig(
                    type,
                    integer(root, "vocab_size", null),
                    hidden,
                    integer(root, "intermediate_size", null),
                    integer(root, "num_hidden_layers", null),
                    heads,
                    integer(root, "num_key_value_heads", heads),
                    headDim,
                    number(root, "rms_norm_eps", 1e-6),
                    number(root, "rope_theta", 10000.0),
                    integer(root, "max_position_embeddings", 2048),
                    bool(root, "tie_word_embeddings", false),
                    bool(root, "attention_bias", false),
                    tokenId(root, "bos_token_id"),
                    tokenId(root, "eos_token_id"),
                    ropeScaling(root.get("rope_scaling")));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file + ": " + e.getMessage(), e);
        }
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n");
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(modelType.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        o.put("model_type", modelType);
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        if (modelType.equals("llama")) {
            o.put("attention_bias", attentionBias);
            o.put("mlp_bias", false);
        }
        o.put("attention_dropout", 0.0);
        o.put("initializer_range", 0.02);
        if (bosTokenId >= 0) o.put("bos_token_id", bosTokenId);
        if (eosTokenId >= 0) o.put("eos_token_id", eosTokenId);
        if (ropeScaling.type().equals("default")) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.type()).put("factor", ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                r.put("low_freq_factor", ropeScaling.lowFreqFactor()).put("high_freq_factor", ropeScaling.highFreqFactor())
                        .put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        o.put("torch_dtype", "float32");
        o.put("use_cache", true);
        return o;
    }

    /** {@code rope_scaling}: null, or {rope_type (older configs: type), factor, ...}. */
    private static RopeScaling ropeScaling(JsonNode n) {
        if (n == null || n.isNull()) return RopeScaling.NONE;
        if (!n.isObject()) throw new IllegalArgumentException("field 'rope_scaling' must be an object or null, found " + n);
        String type = text(n, "rope_type", text(n, "type", null));
        if (type == null) throw new IllegalArgumentException("rope_scaling: missing field 'rope_type'");
        if (!RopeScaling.SUPPORTED.contains(type)) {
            throw new IllegalArgumentException("rope_scaling type '" + type + "' is not supported (supported: "
                    + RopeScaling.SUPPORTED + "); computing it as the default would give wrong log-probs");
        }
        if (type.equals("default")) return RopeScaling.NONE;
        try {
            return new RopeScaling(type, number(n, "factor", Double.NaN), number(n, "low_freq_factor", 0),
                    number(n, "high_freq_factor", 0), type.equals("llama3") ? integer(n, "original_max_position_embeddings", null) : 0);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rope_scaling: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode root, String field, String dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isTextual()) throw new IllegalArgumentException("field '" + field + "' must be a string, found " + n);
        return n.asText();
    }

    private static int integer(JsonNode root, String field, Integer dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (dflt == null) throw new IllegalArgumentException("missing field '" + field + "'");
            return dflt;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be an integer, found " + n);
        }
        return n.intValue();
    }

    private static double number(JsonNode root, String field, double dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber()) throw new IllegalArgumentException("field '" + field + "' must be a number, found " + n);
        return n.doubleValue();
    }

    private static boolean bool(JsonNode root, String field, boolean dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw new IllegalArgumentException("field '" + field + "' must be true or false, found " + n);
        return n.booleanValue();
    }

    /** Hugging Face allows a list of eos ids (Llama 3.1); the first one is the model's own. */
    private static int tokenId(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) return -1;
        if (n.isArray() && !n.isEmpty()) n = n.get(0);
        if (!n.isIntegralNumber()) throw new IllegalArgumentException("field '" + field + "' must be an integer, found " + n);
        return n.intValue();
    }
}
