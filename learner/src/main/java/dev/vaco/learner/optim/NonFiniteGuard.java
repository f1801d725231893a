package dev.vaco.learner.optim;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/**
 * Skips an optimisation step whose loss or gradient norm is NaN or infinite: zeroes the gradients, counts the skip
 * and tells the caller not to touch parameters or optimiser state. One bad minibatch then costs one step, not the run.
 */
public final class NonFiniteGuard {
    private long skipped;

    /**
     * @param loss     the minibatch loss
     * @param gradNorm the global gradient norm before clipping ({@link Gradients#globalNorm})
     * @return true if the step may be applied; false if it was skipped (gradients already zeroed)
     */
    public boolean admit(double loss, double gradNorm, Map<String, NDArray> parameters) {
        if (Double.isFinite(loss) && Double.isFinite(gradNorm)) return true;
        Gradients.zero(parameters);
        skipped++;
        return false;
    }

    /** Steps skipped so far (telemetry {@code optim/skipped_steps}). */
    public long skipped() {
        return skipped;
    }
}
