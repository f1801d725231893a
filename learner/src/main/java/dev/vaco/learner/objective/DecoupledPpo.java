package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decoupled PPO (AReaL, Fu et al., arXiv 2505.24298, eq. 5): the trust region is centred on a proximal policy (here
 * the learner at the start of the iteration) and the behaviour policy is corrected for by a separate IS weight.
 *
 * <pre>
 *   w'_t = exp(lT_t - lb_t)                              behaviour -> proximal, no gradient
 *   r_t  = exp(l_t - lT_t)                               proximal -> current
 *   loss = - aggregate( min(w'_t, C) * min(r_t A_t, clip(r_t, 1 - eps, 1 + eps_high) A_t) )
 * </pre>
 *
 * Compromise: AReaL's code masks tokens whose {@code w'} exceeds the cap; the spec truncates ({@code min(w', C)}),
 * and so does this class.
 *
 * @param eps         lower clip, default 0.2
 * @param epsHigh     upper clip, default 0.2 (AReaL: symmetric)
 * @param isCap       C, the truncation of w'
 * @param aggregation token-mean or seq-mean-token-mean
 */
public record DecoupledPpo(double eps, double epsHigh, double isCap, LossAggregation aggregation)
        implements Objective {

    @Override
    public String name() {
        return "decoupled_ppo";
    }

    @Override
    public ObjectiveResult loss(PolicyBatch batch) {
        NDArray l = batch.logp(), lT = batch.logpStart(), lb = batch.logpBehaviour(), mask = batch.mask();
        NDArray advantages = batch.tokenAdvantages();                         // [N, T]

        NDArray behaviourWeight = lT.sub(lb).exp().minimum((float) isCap);    // [N, T] min(w', C), constant
        NDArray logRatio = l.sub(lT);                                         // [N, T]
        NDArray ratio = logRatio.exp();                                       // [N, T] r_t, with gradient
        NDArray pgLoss1 = ratio.mul(advantages).neg();
        NDArray pgLoss2 = ratio.clip(1 - eps, 1 + epsHigh).mul(advantages).neg();
        NDArray loss = aggregation.aggregate(pgLoss1.maximum(pgLoss2).mul(behaviourWeight), mask);

        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("loss/policy", (double) loss.getFloat());
        metrics.put("ppo/clip_frac", Tokens.fraction(pgLoss2.stopGradient().gt(pgLoss1.stopGradient()), mask));
        NDArray lr = logRatio.stopGradient();
        metrics.put("ppo/approx_kl", Tokens.mean(lr.exp().sub(1f).sub(lr), mask));
        metrics.put("is/ess", Tokens.ess(behaviourWeight, mask));
        metrics.put("is/truncated_frac", Tokens.fraction(lT.sub(lb).exp().gt((float) isCap), mask));
        return new ObjectiveResult(loss, metrics);
    }
}
