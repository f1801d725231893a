package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/**
 * A scalar loss to call backward on, and named metrics for telemetry (names in verl / cleanrl style:
 * {@code loss/policy}, {@code vaco/filtered_frac}, {@code ppo/clip_frac}, {@code is/ess}, {@code kl/ref}, ...).
 *
 * @param loss    [] scalar, with gradient w.r.t. {@code PolicyBatch.logp}
 * @param metrics metric name -> value, insertion-ordered, computed without gradient
 */
public record ObjectiveResult(NDArray loss, Map<String, Double> metrics) {
    public ObjectiveResult {
        if (loss.getShape().dimension() != 0) {
            throw new IllegalArgumentException("loss must be a scalar [], found " + loss.getShape());
        }
        metrics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metrics));
    }
}
