package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GRPO (Shao et al., "DeepSeekMath", arXiv 2402.03300, eq. 3): the PPO-clip surrogate on group-relative advantages,
 * with {@code pi_old} = the learner at the start of the iteration, plus its own KL-to-reference term.
 *
 * <pre>
 *   r_t  = exp(l_t - lT_t)
 *   loss = - aggregate( min(r_t A_t, clip(r_t, 1 - eps, 1 + eps_high) A_t) ) + beta * aggregate(k3(l, l_ref))
 * </pre>
 *
 * <p>How it differs from {@link PpoClip} here: in Shao et al. {@code pi_old} is "the policy before the update",
 * which in their synchronous loop both sampled the data and started the iteration. Asynchronously those two part
 * ways; this class takes the reading of verl (which recomputes {@code old_log_prob} with the actor before the first
 * minibatch), i.e. {@code pi_old = lT}, so it trusts-regions only the forward lag and ignores the backward lag
 * (no importance correction toward the behaviour policy). {@link PpoClip} takes {@code pi_old = lb}. Group-relative
 * advantages come from {@link GroupAdvantages}; the KL term uses k3 as in the paper, default {@code beta = 0}.
 *
 * @param eps         lower clip, default 0.2
 * @param epsHigh     upper clip, default 0.2
 * @param aggregation token-mean or seq-mean-token-mean (the paper: seq-mean-token-mean)
 * @param klCoef      beta, default 0 (off); needs {@code logpRef} when &gt; 0
 */
public record Grpo(double eps, double epsHigh, LossAggregation aggregation, double klCoef) implements Objective {

    @Override
    public String name() {
        return "grpo";
    }

    @Override
    public ObjectiveResult loss(PolicyBatch batch) {
        NDArray l = batch.logp(), lT = batch.logpStart(), mask = batch.mask();
        NDArray advantages = batch.tokenAdvantages();                         // [N, T]

        NDArray logRatio = l.sub(lT);                                         // [N, T]
        NDArray ratio = logRatio.exp();                                       // [N, T] r_t, with gradient
        NDArray pgLoss1 = ratio.mul(advantages).neg();
        NDArray pgLoss2 = ratio.clip(1 - eps, 1 + epsHigh).mul(advantages).neg();
        NDArray policyLoss = aggregation.aggregate(pgLoss1.maximum(pgLoss2), mask);

        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("loss/policy", (double) policyLoss.getFloat());
        metrics.put("ppo/clip_frac", Tokens.fraction(pgLoss2.stopGradient().gt(pgLoss1.stopGradient()), mask));
        NDArray lr = logRatio.stopGradient();
        metrics.put("ppo/approx_kl", Tokens.mean(lr.exp().sub(1f).sub(lr), mask));
        NDArray kl = Tokens.klPenalty(batch, klCoef, aggregation, metrics);
        NDArray loss = kl == null ? policyLoss : policyLoss.add(kl);
        metrics.put("loss/total", (double) loss.getFloat());
        return new ObjectiveResult(loss, metrics);
    }
}
