package dev.vaco.server.engine;

/**
 * Choices in how {@link LlamaGraph} lays out the decoder; all of them compute the same function.
 *
 * @param packedQkv  one Gemm over a q|k|v weight concatenated at session creation (a copy of the q/k/v weights)
 *                   feeding GroupQueryAttention's packed input, instead of three Gemms and three GQA inputs
 * @param fusedNorms RMSNorm as ORT's {@code SimplifiedLayerNormalization} / {@code SkipSimplifiedLayerNormalization}
 *                   (residual add fused) instead of standard ops (Mul, ReduceMean, Add, Sqrt, Div, Mul)
 * @param graphRotary rotary embedding in standard ops before GQA even when GQA could do it ({@code do_rotary=1});
 *                   ORT's GQA rotary needs head_dim % 16 == 0, so other head dims always use the standard ops
 * @param loraRank   0: no adapters. R > 0 (vLLM's {@code --max-lora-rank}): every one of the seven projections of every
 *                   layer gets LoRA inputs A [R, in] and B [out, R] ({@link LlamaGraph#loraA}), so that one session
 *                   serves every adapter of rank up to R (smaller ranks zero-padded, scaling folded into B); this is
 *                   not the same function as without adapters only while those inputs are non-zero
 * @param quantization weight-only quantization of the projections (and lm_head) as MatMulNBits, or
 *                   {@link Quantization#NONE}: fp32 Gemms. Not the same function: log-probs are the
 *                   quantized policy's
 */
public record GraphOptions(boolean packedQkv, boolean fusedNorms, boolean graphRotary, int loraRank, Quantization quantization) {
    /** The fastest measured layout (see docs/bench/ort.md). */
    public static final GraphOptions DEFAULT = new GraphOptions(true, true, false);

    public GraphOptions {
        if (loraRank < 0) throw new IllegalArgumentException("loraRank must be >= 0, got " + loraRank);
        java.util.Objects.requireNonNull(quantization, "quantization");
    }

    public GraphOptions(boolean packedQkv, boolean fusedNorms, boolean graphRotary) {
        this(packedQkv, fusedNorms, graphRotary, 0, Quantization.NONE);
    }

    public GraphOptions(boolean packedQkv, boolean fusedNorms, boolean graphRotary, int loraRank) {
        this(packedQkv, fusedNorms, graphRotary, loraRank, Quantization.NONE);
    }

    public GraphOptions withLoraRank(int r) {
        return new GraphOptions(packedQkv, fusedNorms, graphRotary, r, quantization);
    }

    public GraphOptions withQuantization(Quantization q) {
        return new GraphOptions(packedQkv, fusedNorms, graphRotary, loraRank, q);
    }

    public boolean lora() {
        return loraRank > 0;
    }

    /** Whether GQA applies rotary itself for this head dim. */
    public boolean gqaRotary(int headDim) {
        return !graphRotary && headDim % 16 == 0;
    }
}
