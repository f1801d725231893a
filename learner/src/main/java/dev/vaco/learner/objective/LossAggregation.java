package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * How per-token losses become one scalar (verl's {@code loss_agg_mode}). An explicit choice, because it changes
 * how much a long response weighs against a short one.
 *
 * <ul>
 *   <li>{@code token-mean}: {@code sum_{i,t} m_it x_it / sum_{i,t} m_it}: every token of the minibatch counts
 *       equally (the spec's {@code / N_tokens}, DAPO's choice).</li>
 *   <li>{@code seq-mean-token-mean}: {@code mean_i ( sum_t m_it x_it / sum_t m_it )}: every response counts
 *       equally (the original GRPO formula); rows without a real token are left out of the mean.</li>
 * </ul>
 */
public enum LossAggregation {
    TOKEN_MEAN("token-mean"),
    SEQ_MEAN_TOKEN_MEAN("seq-mean-token-mean");

    private final String key;

    LossAggregation(String key) {
        this.key = key;
    }

    @JsonValue
    public String key() {
        return key;
    }

    @JsonCreator
    public static LossAggregation of(String key) {
        return Keys.parse(values(), LossAggregation::key, key);
    }

    /**
     * @param perToken [N, T] per-token loss (may carry gradient)
     * @param mask     [N, T] 1 on real tokens (no gradient)
     * @return [] scalar
     */
    public NDArray aggregate(NDArray perToken, NDArray mask) {
        // Number arguments below only touch the mask, which carries no gradient: autograd saves nothing of them.
        return switch (this) {
            case TOKEN_MEAN -> perToken.mul(mask).sum().div(mask.sum().maximum(1f));
            case SEQ_MEAN_TOKEN_MEAN -> {
                NDArray length = mask.sum(new int[] {1});                                  // [N]
                NDArray rowLoss = perToken.mul(mask).sum(new int[] {1}).div(length.maximum(1f)); // [N]
                NDArray nonEmpty = length.gt(0f).toType(mask.getDataType(), false);        // [N]
                yield rowLoss.mul(nonEmpty).sum().div(nonEmpty.sum().maximum(1f));
            }
        };
    }
}
