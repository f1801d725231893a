package dev.vaco.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW over a {@link TorchPolicy}'s parameters, one fused libtorch update per parameter (DJL's {@code adamUpdate}).
 *
 * <p>Why not DJL's {@code Optimizer.adamW()}: it creates its moment arrays lazily on the first update, in whatever
 * {@code NDScope} is open at that moment (which then frees them). Here the state is created up front in the policy's
 * manager and never registered with a scope. Bias correction follows DJL's kernel:
 * {@code w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)}, i.e. torch's AdamW with eps scaled by
 * {@code sqrt(1 - b2^t)} (identical unless gradients are ~eps). Decay is decoupled: {@code w -= lr * wd * w}.
 *
 * <p>Call {@link #step()} after backward and outside the {@code GradientCollector} (grad mode off); it zeroes the
 * gradients afterwards.
 */
public final class AdamW implements AutoCloseable {
    private final TorchPolicy policy;
    private final AdamWOptions options;
    private final NDManager state;
    private final Map<String, NDArray[]> moments = new LinkedHashMap<>(); // name -> {m, v}, each like the parameter
    private int step;

    public AdamW(TorchPolicy policy, AdamWOptions options) {
        this.policy = policy;
        this.options = options;
        this.state = policy.manager().newSubManager();
        for (var e : policy.parameters().entrySet()) {
            NDArray m = NativeArrays.keep(state.zeros(e.getValue().getShape()));
            NDArray v = NativeArrays.keep(state.zeros(e.getValue().getShape()));
            moments.put(e.getKey(), new NDArray[] {m, v});
        }
    }

    public int stepsTaken() {
        return step;
    }

    /** One update from the accumulated gradients, then zero them. */
    public void step() {
        step++;
        double coef1 = 1 - Math.pow(options.beta1(), step), coef2 = 1 - Math.pow(options.beta2(), step);
        float lr = options.learningRate();
        float lrCorrected = (float) (lr * Math.sqrt(coef2) / coef1);
        for (var e : policy.parameters().entrySet()) {
            NDArray w = e.getValue();
            NDArray[] mv = moments.get(e.getKey());
            try (NDArray grad = w.getGradient()) {
                w.getNDArrayInternal().adamUpdate(new NDList(w, grad, mv[0], mv[1]), new NDList(w), lr, lrCorrected,
                        options.weightDecay(), 1f, -1f, options.beta1(), options.beta2(), options.epsilon(), true,
                        true);
            }
        }
        // DJL's adamUpdate ends with grad.zero_() on each parameter, so the next step starts from zero.
    }

    @Override
    public void close() {
        state.close();
    }
}
