package dev.vaco.learner.objective;

import dev.vaco.learner.objective.AdvantageEstimator;
import dev.vaco.learner.objective.LossAggregation;
import dev.vaco.learner.objective.Objective;
import dev.vaco.learner.objective.Vaco.TestScope;
import dev.vaco.learner.objective.Vaco.TvAnchor;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code objective.*}: which loss, its switches and the advantage estimator ({@code docs/vaco-spec.md}).
 *
 * @param name               objective: vaco | ppo_clip | grpo | decoupled_ppo | tis_reinforce | spo [vaco]
 * @param advantage          advantage estimator: grpo | dr_grpo [grpo]
 * @param advantageEps       std guard of the grpo estimator [1e-6, verl's]
 * @param dropAllEqualGroups drop groups whose rewards are all equal before training (DAPO) [false]
 * @param aggregation        token-mean | seq-mean-token-mean [token-mean]
 * @param delta              VACO TV threshold [0.05, measured; the paper's 0.2 filtered too little here: at lag k = 4
 *                           0.05 kept 57.1% ± 1.1 held-out against 55.5% ± 3.5, at k = 8 about 3 points more
 *                           (RESULTS.md, switch comparison)]
 * @param rhoBar             VACO Align truncation of exp(lT - lb) [1.0]
 * @param tvAnchor           VACO TV anchor: behaviour | learner-start [behaviour]
 * @param testScope          VACO filter scope: token | sequence-mean | group-mean [token]
 * @param klCoef             KL-to-reference weight, vaco and grpo only [0 = off, no reference forward]
 * @param eps                PPO lower clip / SPO radius [0.2]
 * @param epsHigh            PPO upper clip [0.2]
 * @param isCap              IS truncation C of decoupled_ppo and tis_reinforce [2.0]
 */
public record ObjectiveConfig(
        String name,
        AdvantageEstimator advantage,
        double advantageEps,
        boolean dropAllEqualGroups,
        LossAggregation aggregation,
        double delta,
        double rhoBar,
        TvAnchor tvAnchor,
        TestScope testScope,
        double klCoef,
        double eps,
        double epsHigh,
        double isCap) {

    public ObjectiveConfig {
        require(name != null && Objective.NAMES.contains(name), "objective.name", "one of " + Objective.NAMES,
                "'" + name + "'");
        require(advantage != null, "objective.advantage", "grpo | dr_grpo", null);
        require(advantageEps > 0 && advantageEps < 1, "objective.advantage_eps", "a number in (0, 1)", advantageEps);
        require(aggregation != null, "objective.aggregation", "token-mean | seq-mean-token-mean", null);
        require(delta > 0 && delta < 1, "objective.delta", "a number in (0, 1) (TV is at most 1)", delta);
        require(rhoBar > 0 && Double.isFinite(rhoBar), "objective.rho_bar", "a finite number > 0", rhoBar);
        require(tvAnchor != null, "objective.tv_anchor", "behaviour | learner-start", null);
        require(testScope != null, "objective.test_scope", "token | sequence-mean | group-mean", null);
        require(klCoef >= 0 && Double.isFinite(klCoef), "objective.kl_coef", "a finite number >= 0", klCoef);
        require(klCoef == 0 || name.equals("vaco") || name.equals("grpo"), "objective.kl_coef",
                "0 for objective " + name + " (only vaco and grpo have a KL term)", klCoef);
        require(eps > 0 && eps < 1, "objective.eps", "a number in (0, 1)", eps);
        require(epsHigh > 0 && Double.isFinite(epsHigh), "objective.eps_high", "a finite number > 0", epsHigh);
        require(isCap > 0 && Double.isFinite(isCap), "objective.is_cap", "a finite number > 0", isCap);
    }

    public static ObjectiveConfig defaults() {
        return new ObjectiveConfig("vaco", AdvantageEstimator.GRPO, 1e-6, false, LossAggregation.TOKEN_MEAN,
                0.05, 1.0, TvAnchor.BEHAVIOUR, TestScope.TOKEN, 0.0, 0.2, 0.2, 2.0);
    }
}
