package dev.vaco.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.Map;

/**
 * Whole-model gradient operations. DJL's {@code optClipGrad} clips each element; the global-norm clip of
 * {@code torch.nn.utils.clip_grad_norm_} is written here. Call with the {@code GradientCollector} closed.
 */
public final class Gradients {
    private Gradients() {}

    /** {@code sqrt(sum over parameters of ||g||^2)}; NaN or infinite when any gradient element is. */
    public static double globalNorm(Map<String, NDArray> parameters) {
        double sumSq = 0;
        for (NDArray p : parameters.values()) {
            try (NDArray g = p.getGradient(); NDArray norm = g.norm()) {
                double n = norm.getFloat();
                sumSq += n * n;
            }
        }
        return Math.sqrt(sumSq);
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when the global norm exceeds {@code maxNorm}
     * (torch's formula). A non-finite norm is left alone (the {@link NonFiniteGuard} skips such steps).
     *
     * @return the global norm before clipping
     */
    public static double clipByGlobalNorm(Map<String, NDArray> parameters, double maxNorm) {
        double norm = globalNorm(parameters);
        scaleToNorm(parameters, norm, maxNorm);
        return norm;
    }

    /** The clip of {@link #clipByGlobalNorm} with a norm already computed. */
    static void scaleToNorm(Map<String, NDArray> parameters, double norm, double maxNorm) {
        if (!(maxNorm > 0) || !Double.isFinite(norm) || norm <= maxNorm) return;
        float scale = (float) (maxNorm / (norm + 1e-6));
        for (NDArray p : parameters.values()) {
            try (NDArray g = p.getGradient()) {
                g.muli(scale); // in place on the parameter's .grad; grad mode off, nothing saved
            }
        }
    }

    /** Sets every gradient to exactly 0 (libtorch {@code grad.zero_()}; also clears NaN, unlike {@code g - g}). */
    public static void zero(Map<String, NDArray> parameters) {
        for (NDArray p : parameters.values()) JniUtils.zeroGrad((PtNDArray) p);
    }
}
