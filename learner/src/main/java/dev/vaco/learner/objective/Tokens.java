package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Map;

/**
 * Small per-token helpers shared by the objectives. Shapes: {@code N} responses, {@code T} tokens.
 *
 * <p>Rule for everything backward traverses: never {@code op(Number)} on an array that carries gradient. DJL wraps
 * the number in a tensor over a Java buffer and frees it right after the op, while autograd keeps it for backward
 * (engine notes, "use-after-free"). Scalars come from {@link #scalar}, which libtorch owns.
 */
final class Tokens {
    private Tokens() {}

    /** A 0-d fp32 scalar in libtorch memory ({@code torch::full}): safe in ops that autograd saves. */
    static NDArray scalar(NDManager manager, double value) {
        return manager.full(new Shape(), (float) value, DataType.FLOAT32);
    }

    /** Masked mean over real tokens, as a metric (no gradient). */
    static double mean(NDArray x, NDArray mask) {
        double tokens = mask.sum().getFloat();
        return tokens == 0 ? 0 : x.stopGradient().mul(mask).sum().getFloat() / tokens;
    }

    /** Effective sample size of importance weights over real tokens, {@code (sum w)^2 / sum w^2 / n}, in (0, 1]. */
    static double ess(NDArray w, NDArray mask) {
        double n = mask.sum().getFloat();
        NDArray wm = w.stopGradient().mul(mask);
        double sum = wm.sum().getFloat(), sumSq = wm.mul(wm).sum().getFloat();
        return n == 0 || sumSq == 0 ? 0 : sum * sum / sumSq / n;
    }

    /**
     * KL(pi || pi_ref) per token with Schulman's k3 estimator, as in GRPO (Shao et al. 2024, eq. 4):
     * {@code exp(l_ref - l) - (l_ref - l) - 1 >= 0}. [N, T], with gradient through {@code logp}.
     */
    static NDArray k3(NDArray logp, NDArray logpRef) {
        NDArray d = logpRef.sub(logp);                                   // [N, T] l_ref - l
        return d.exp().sub(d).sub(scalar(logp.getManager(), 1));
    }

    /**
     * {@code coef * aggregate(k3)} to add to the loss, or {@code null} when {@code coef == 0}; records {@code kl/ref}
     * whenever the batch has a reference.
     */
    static NDArray klPenalty(PolicyBatch batch, double coef, LossAggregation aggregation,
                             Map<String, Double> metrics) {
        if (coef > 0 && !batch.hasReference()) {
            throw new IllegalArgumentException(
                    "KL coefficient is " + coef + " but the batch has no logpRef: pass the reference log-probs "
                            + "(PolicyBatch.withReference) or set objective.kl_coef=0");
        }
        if (!batch.hasReference()) return null;
        NDArray kl = aggregation.aggregate(k3(batch.logp(), batch.logpRef()), batch.mask()); // []
        metrics.put("kl/ref", (double) kl.getFloat());
        return coef > 0 ? kl.mul(scalar(kl.getManager(), coef)) : null;
    }

    /** Fraction of real tokens where {@code flag} (0/1 or boolean, [N, T]) is set. */
    static double fraction(NDArray flag, NDArray mask) {
        return mean(flag.toType(DataType.FLOAT32, false), mask);
    }
}
