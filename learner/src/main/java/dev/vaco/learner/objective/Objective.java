package dev.vaco.learner.objective;

import dev.vaco.learner.objective.ObjectiveConfig;

import java.util.List;

/**
 * A policy objective: one minibatch in, a scalar loss and named metrics out. One file per objective, the formula
 * and paper on top of each.
 *
 * <p>Caller's loop, per learner iteration: {@code batch = objective.beginIteration(batch)} once on the whole batch
 * (VACO's Align; identity elsewhere), then for each update and minibatch: recompute {@code logp}, {@code loss},
 * backward. Wrap each minibatch in an {@code NDScope}: the objectives create their intermediates in the manager of
 * {@code logp}.
 *
 * <p>The objectives take their parameters as given: each is validated once, in {@link ObjectiveConfig}, whose
 * message names the config key.
 */
public sealed interface Objective permits Vaco, PpoClip, Grpo, DecoupledPpo, TruncatedIsReinforce, Spo {

    /** Valid values of {@code objective.name}. */
    List<String> NAMES = List.of("vaco", "ppo_clip", "grpo", "decoupled_ppo", "tis_reinforce", "spo");

    String name();

    /** Once per learner iteration, on the whole batch, before its first minibatch. No gradient. */
    default PolicyBatch beginIteration(PolicyBatch batch) {
        return batch;
    }

    ObjectiveResult loss(PolicyBatch minibatch);

    static Objective create(ObjectiveConfig c) {
        return switch (c.name()) {
            case "vaco" -> new Vaco(c.delta(), c.rhoBar(), c.tvAnchor(), c.testScope(), c.aggregation(), c.klCoef());
            case "ppo_clip" -> new PpoClip(c.eps(), c.epsHigh(), c.aggregation());
            case "grpo" -> new Grpo(c.eps(), c.epsHigh(), c.aggregation(), c.klCoef());
            case "decoupled_ppo" -> new DecoupledPpo(c.eps(), c.epsHigh(), c.isCap(), c.aggregation());
            case "tis_reinforce" -> new TruncatedIsReinforce(c.isCap(), c.aggregation());
            case "spo" -> new Spo(c.eps(), c.aggregation());
            default -> throw new IllegalArgumentException(
                    "unknown objective '" + c.name() + "': expected one of " + NAMES);
        };
    }
}
