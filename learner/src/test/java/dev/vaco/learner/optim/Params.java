package dev.vaco.learner.optim;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.LinkedHashMap;
import java.util.Map;

/** Test parameters with chosen gradients: backward of sum(p * g) leaves exactly g in p.grad. */
final class Params {
    private Params() {}

    static NDArray leaf(NDManager m, float[] values, Shape shape) {
        try (NDArray javaBacked = m.create(values, shape)) {
            NDArray p = javaBacked.duplicate();
            p.setRequiresGradient(true);
            return p;
        }
    }

    static NDArray constant(NDManager m, float[] values, Shape shape) {
        try (NDArray javaBacked = m.create(values, shape)) {
            return javaBacked.duplicate();
        }
    }

    /** Sets (accumulates onto zeroed) gradients: grads.get(name) for each parameter. */
    static void backwardWithGradients(Map<String, NDArray> params, Map<String, float[]> grads) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (var e : params.entrySet()) {
                NDArray g = constant(e.getValue().getManager(), grads.get(e.getKey()), e.getValue().getShape());
                NDArray term = e.getValue().mul(g).sum();
                loss = loss == null ? term : loss.add(term);
            }
            collector.backward(loss);
        }
    }

    static Map<String, float[]> values(Map<String, NDArray> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
