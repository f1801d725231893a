package dev.vaco.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.vaco.learner.optim.OptimConfig;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", arXiv 1711.05101), step for step as
 * {@code torch.optim.AdamW} (single-tensor path), written as in-place libtorch ops over the parameters:
 *
 * <pre>
 *   p    = p * (1 - lr * wd)                     decoupled decay
 *   m    = b1 m + (1 - b1) g
 *   v    = b2 v + (1 - b2) g^2
 *   p    = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * <p>State ({@code m}, {@code v}, {@code t}) is kept per parameter name and created lazily at the parameter's first
 * update, in the optimiser's own manager, outside any {@link NDScope}. It can be exported / imported as plain float
 * arrays ({@link State}) for checkpoints. Call {@link #step} after backward with the {@code GradientCollector} closed
 * (grad mode off: in-place updates of leaves are then allowed). It does not zero gradients ({@link Gradients#zero}).
 * A parameter whose gradient was never defined gets a zero gradient (DJL's {@code getGradient}); torch would skip it.
 *
 * <p>Why not DJL's {@code Optimizer.adamW()} / fused {@code adamUpdate}: its state is private (no checkpoint), it
 * scales eps by {@code sqrt(1 - b2^t)} unlike torch, and on this machine the fused kernel was not measurably faster
 * than these ops at our parameter sizes (see {@code AdamWTest#timing}).
 */
public final class AdamW implements AutoCloseable {
    private final double beta1, beta2, eps, weightDecay;
    private final NDManager stateManager;
    private final Map<String, Moments> moments = new LinkedHashMap<>();

    private static final class Moments {
        final NDArray expAvg;    // m, like the parameter
        final NDArray expAvgSq;  // v, like the parameter
        long step;

        Moments(NDArray expAvg, NDArray expAvgSq, long step) {
            this.expAvg = expAvg;
            this.expAvgSq = expAvgSq;
            this.step = step;
        }
    }

    /**
     * Plain copy of the optimiser state for a checkpoint, by parameter name; each array flat, in the parameter's
     * row-major order.
     */
    public record State(Map<String, Long> steps, Map<String, float[]> expAvg, Map<String, float[]> expAvgSq) {}

    /** The hyper-parameters are {@code optim.*} keys, validated once where they are read: {@link OptimConfig}. */
    public AdamW(NDManager parent, double beta1, double beta2, double eps, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.stateManager = parent.newSubManager();
    }

    public static AdamW from(NDManager parent, OptimConfig c) {
        return new AdamW(parent, c.beta1(), c.beta2(), c.eps(), c.weightDecay());
    }

    /**
     * One update of every parameter that has a gradient, at learning rate {@code lr}.
     *
     * @param parameters name -> fp32 parameter (requires gradient), as the policy exposes them
     */
    public void step(Map<String, NDArray> parameters, double lr) {
        for (var e : parameters.entrySet()) {
            NDArray p = e.getValue();
            try (NDArray g = p.getGradient()) {
                Moments s = moments.computeIfAbsent(e.getKey(), k -> new Moments(keep(p.zerosLike()),
                        keep(p.zerosLike()), 0));
                s.step++;
                double bc1 = 1 - Math.pow(beta1, s.step);
                double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, s.step));
                // Number operands are safe here: grad mode is off, nothing is saved for a backward pass.
                if (weightDecay != 0) p.muli((float) (1 - lr * weightDecay));
                try (NDArray g1 = g.mul((float) (1 - beta1));
                     NDArray g2 = g.square().muli((float) (1 - beta2))) {
                    s.expAvg.muli((float) beta1).addi(g1);
                    s.expAvgSq.muli((float) beta2).addi(g2);
                }
                try (NDArray denom = s.expAvgSq.sqrt().divi((float) bc2Sqrt).addi((float) eps);
                     NDArray update = s.expAvg.div(denom).muli((float) (lr / bc1))) {
                    p.subi(update);
                }
            }
        }
    }

    /** Steps taken by parameter {@code name} (0 before its first update). */
    public long steps(String name) {
        Moments s = moments.get(name);
        return s == null ? 0 : s.step;
    }

    public State exportState() {
        Map<String, Long> steps = new LinkedHashMap<>();
        Map<String, float[]> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
        moments.forEach((name, s) -> {
            steps.put(name, s.step);
            m.put(name, s.expAvg.toFloatArray());
            v.put(name, s.expAvgSq.toFloatArray());
        });
        return new State(steps, m, v);
    }

    /** Replaces the state by {@code state}; every name must be a parameter of the same size. */
    public void importState(State state, Map<String, NDArray> parameters) {
        for (var e : state.steps().entrySet()) {
            NDArray p = parameters.get(e.getKey());
            if (p == null) {
                throw new IllegalArgumentException("optimiser state has parameter '" + e.getKey()
                        + "' which the model does not have; model parameters: " + parameters.keySet());
            }
            float[] m = state.expAvg().get(e.getKey()), v = state.expAvgSq().get(e.getKey());
            if (m == null || v == null || m.length != p.size() || v.length != p.size()) {
                throw new IllegalArgumentException("optimiser state for '" + e.getKey() + "' must hold "
                        + p.size() + " values per moment (shape " + p.getShape() + "), found "
                        + (m == null ? "none" : m.length) + " and " + (v == null ? "none" : v.length));
            }
        }
        moments.values().forEach(s -> {
            s.expAvg.close();
            s.expAvgSq.close();
        });
        moments.clear();
        for (var e : state.steps().entrySet()) {
            NDArray p = parameters.get(e.getKey());
            moments.put(e.getKey(), new Moments(copy(state.expAvg().get(e.getKey()), p),
                    copy(state.expAvgSq().get(e.getKey()), p), e.getValue()));
        }
    }

    private NDArray keep(NDArray array) {
        array.attach(stateManager);
        NDScope.unregister(array); // state outlives whatever scope the caller has open
        return array;
    }

    private NDArray copy(float[] data, NDArray like) {
        try (NDArray javaBacked = stateManager.create(FloatBuffer.wrap(data), like.getShape(), DataType.FLOAT32)) {
            return keep(javaBacked.duplicate()); // libtorch-owned copy
        }
    }

    @Override
    public void close() {
        stateManager.close();
    }
}
