package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Simple Policy Optimization (Xie et al., arXiv 2401.16025): the clip is replaced by a quadratic penalty that keeps
 * the ratio near 1 with a gradient everywhere (its optimum per token sits at {@code q = 1 + sign(A) eps}).
 *
 * <pre>
 *   q_t  = exp(l_t - lb_t)
 *   loss = - aggregate( q_t A_t - |A_t| / (2 eps) * (q_t - 1)^2 )
 * </pre>
 *
 * @param eps         penalty radius, default 0.2
 * @param aggregation token-mean or seq-mean-token-mean
 */
public record Spo(double eps, LossAggregation aggregation) implements Objective {

    @Override
    public String name() {
        return "spo";
    }

    @Override
    public ObjectiveResult loss(PolicyBatch batch) {
        NDArray l = batch.logp(), lb = batch.logpBehaviour(), mask = batch.mask();
        NDArray advantages = batch.tokenAdvantages();                                  // [N, T]

        NDArray ratio = l.sub(lb).exp();                                               // [N, T] q_t, with gradient
        NDArray excess = ratio.sub(Tokens.scalar(ratio.getManager(), 1));              // [N, T] q_t - 1
        NDArray penalty = advantages.abs().mul((float) (1 / (2 * eps)));               // [N, T] constant
        NDArray objective = ratio.mul(advantages).sub(excess.mul(excess).mul(penalty));
        NDArray loss = aggregation.aggregate(objective.neg(), mask);

        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("loss/policy", (double) loss.getFloat());
        NDArray q = ratio.stopGradient();
        metrics.put("ppo/clip_frac", Tokens.fraction(q.sub(1f).abs().gt((float) eps), mask)); // outside the radius
        metrics.put("vaco/tv_behaviour", Tokens.mean(q.sub(1f).abs().mul(0.5f), mask));
        metrics.put("is/ess", Tokens.ess(q, mask));
        return new ObjectiveResult(loss, metrics);
    }
}
