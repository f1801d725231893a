package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Truncated-importance-sampling REINFORCE, PipelineRL style (Piche et al., "PipelineRL", 2025; spec "Baselines"):
 * plain policy gradient on behaviour data, each token re-weighted by its truncated, stopped-gradient ratio.
 *
 * <pre>
 *   q_t  = exp(l_t - lb_t)
 *   loss = - aggregate( sg(min(q_t, C)) * l_t * A_t )
 * </pre>
 *
 * @param isCap       C, the truncation of the ratio
 * @param aggregation token-mean or seq-mean-token-mean
 */
public record TruncatedIsReinforce(double isCap, LossAggregation aggregation) implements Objective {

    @Override
    public String name() {
        return "tis_reinforce";
    }

    @Override
    public ObjectiveResult loss(PolicyBatch batch) {
        NDArray l = batch.logp(), lb = batch.logpBehaviour(), mask = batch.mask();
        NDArray advantages = batch.tokenAdvantages();                                  // [N, T]

        NDArray ratio = l.stopGradient().sub(lb).exp();                                // [N, T] q_t, no gradient
        NDArray weight = ratio.minimum((float) isCap);                                 // [N, T] sg(min(q, C))
        NDArray loss = aggregation.aggregate(l.mul(weight.mul(advantages)).neg(), mask);

        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("loss/policy", (double) loss.getFloat());
        metrics.put("is/ess", Tokens.ess(weight, mask));
        metrics.put("is/truncated_frac", Tokens.fraction(ratio.gt((float) isCap), mask));
        metrics.put("vaco/tv_behaviour", Tokens.mean(ratio.sub(1f).abs().mul(0.5f), mask));
        return new ObjectiveResult(loss, metrics);
    }
}
