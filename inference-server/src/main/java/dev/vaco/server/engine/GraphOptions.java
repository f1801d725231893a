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
 */
public record GraphOptions(boolean packedQkv, boolean fusedNorms, boolean graphRotary) {
    /** The fastest measured layout (see docs/bench/ort.md). */
    public static final GraphOptions DEFAULT = new GraphOptions(true, true, false);

    /** Whether GQA applies rotary itself for this head dim. */
    public boolean gqaRotary(int headDim) {
        return !graphRotary && headDim % 16 == 0;
    }
}
