package dev.vaco.learner.objective;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;

import java.util.Map;

/** Loss and d loss / d logp from DJL, through a GradientCollector (only one may be open per JVM). */
final class Autograd {
    private Autograd() {}

    record Result(double loss, float[] grad, Map<String, Double> metrics) {}

    static Result lossAndGrad(Objective objective, PolicyBatch batch) {
        return lossAndGrad(objective, batch, false);
    }

    /** @param gcBeforeBackward force a GC between forward and backward (use-after-free tripwire) */
    static Result lossAndGrad(Objective objective, PolicyBatch batch, boolean gcBeforeBackward) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            ObjectiveResult result = objective.loss(batch);
            if (gcBeforeBackward) {
                for (int i = 0; i < 3; i++) {
                    System.gc();
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            collector.backward(result.loss());
            try (NDArray g = batch.logp().getGradient()) {
                return new Result(result.loss().getFloat(), g.toFloatArray(), result.metrics());
            }
        }
    }
}
