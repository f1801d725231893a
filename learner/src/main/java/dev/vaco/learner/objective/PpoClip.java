package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PPO-clip in the usual asynchronous setting, {@code pi_old} = the behaviour policy that sampled the data
 * (Schulman et al. 2017, arXiv 1707.06347; spec "Baselines"). Asymmetric clip range as in DAPO ({@code eps_high}).
 *
 * <pre>
 *   q_t  = exp(l_t - lb_t)
 *   loss = - aggregate( min(q_t A_t, clip(q_t, 1 - eps, 1 + eps_high) A_t) )
 * </pre>
 *
 * Metrics: {@code ppo/clip_frac} = share of tokens where the clipped term is the active one (verl's
 * {@code pg_clipfrac}); {@code ppo/approx_kl} = {@code mean((q - 1) - log q)} (Schulman's k3, as cleanrl).
 *
 * @param eps         lower clip, default 0.2
 * @param epsHigh     upper clip, default 0.2
 * @param aggregation token-mean or seq-mean-token-mean
 */
public record PpoClip(double eps, double epsHigh, LossAggregation aggregation) implements Objective {

    @Override
    public String name() {
        return "ppo_clip";
    }

    @Override
    public ObjectiveResult loss(PolicyBatch batch) {
        NDArray l = batch.logp(), lb = batch.logpBehaviour(), mask = batch.mask();
        NDArray advantages = batch.tokenAdvantages();                         // [N, T]

        NDArray logRatio = l.sub(lb);                                         // [N, T]
        NDArray ratio = logRatio.exp();                                       // [N, T] q_t, with gradient
        NDArray pgLoss1 = ratio.mul(advantages).neg();                        // [N, T]
        NDArray pgLoss2 = ratio.clip(1 - eps, 1 + epsHigh).mul(advantages).neg(); // clamp bounds go by value
        NDArray loss = aggregation.aggregate(pgLoss1.maximum(pgLoss2), mask);

        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("loss/policy", (double) loss.getFloat());
        metrics.put("ppo/clip_frac", Tokens.fraction(pgLoss2.stopGradient().gt(pgLoss1.stopGradient()), mask));
        NDArray lr = logRatio.stopGradient();
        metrics.put("ppo/approx_kl", Tokens.mean(lr.exp().sub(1f).sub(lr), mask));
        metrics.put("is/ess", Tokens.ess(lr.exp(), mask));
        return new ObjectiveResult(loss, metrics);
    }
}
