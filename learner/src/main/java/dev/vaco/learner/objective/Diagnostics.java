package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

/**
 * Per-batch diagnostics of the spec's telemetry that are not part of any loss. No gradient. Shapes: N responses,
 * T tokens.
 */
public final class Diagnostics {
    private Diagnostics() {}

    /**
     * Mismatch KL(pi_b || pi_T) between the inference engine and the trainer on the same policy version, by Schulman's
     * k3 estimator on the tokens the engine sampled: with r = pi_T / pi_b = exp(lT - lb), {@code mean(r - 1 - log r)}
     * over tokens with lag 0 (unbiased because E_b[r] = 1; the earlier exp(lb - lT) form was non-negative but biased).
     * It must be ~0 when both engines agree; a rise is the early warning of a numerical mismatch.
     *
     * @param logpBehaviour [N, T] lb
     * @param logpStart     [N, T] lT
     * @param lagZeroMask   [N, T] 1 on real tokens sampled by the trainer's current version (lag 0), else 0
     * @return the mean, or 0 when no token has lag 0
     */
    public static double mismatchKl(NDArray logpBehaviour, NDArray logpStart, NDArray lagZeroMask) {
        NDArray d = logpStart.sub(logpBehaviour);                 // [N, T] log r = lT - lb
        return Tokens.mean(d.exp().sub(d).sub(1f), lagZeroMask);
    }

    /**
     * Effective sample size of importance weights over real tokens, {@code (sum w)^2 / sum w^2 / n} in (0, 1]
     * ({@code is/ess}); 1 when all weights are equal.
     *
     * @param weights [N, T]
     * @param mask    [N, T]
     */
    public static double ess(NDArray weights, NDArray mask) {
        return Tokens.ess(weights, mask);
    }
}
