package dev.vaco.learner.objective;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tripwire for DJL's use-after-free (engine notes): a forced GC between forward and backward must leave every
 * objective's gradient bit-identical. An {@code op(Number)} on an array with gradient would free the scalar that
 * autograd kept, and show up here as NaN or a different gradient.
 */
class GcTripwireTest {

    @Test
    void gradientsSurviveAGarbageCollectionBetweenForwardAndBackward() {
        LossAggregation agg = LossAggregation.SEQ_MEAN_TOKEN_MEAN;
        List<Objective> objectives = List.of(
                new Vaco(0.1, 1.0, Vaco.TvAnchor.BEHAVIOUR, Vaco.TestScope.GROUP_MEAN, agg, 0.1),
                new PpoClip(0.2, 0.28, agg), new Grpo(0.2, 0.2, agg, 0.1), new DecoupledPpo(0.2, 0.2, 2, agg),
                new TruncatedIsReinforce(2, agg), new Spo(0.2, agg));
        for (Objective objective : objectives) {
            for (long seed = 1; seed <= 3; seed++) {
                Inputs in = new Inputs(seed, 8, 7, 4);
                try (NDManager m = NDManager.newBaseManager()) {
                    Autograd.Result plain = Autograd.lossAndGrad(objective,
                            objective.beginIteration(in.batch(m, true)));
                    Autograd.Result withGc = Autograd.lossAndGrad(objective,
                            objective.beginIteration(in.batch(m, true)), true);
                    assertThat(withGc.grad()).as(objective.name()).containsExactly(plain.grad());
                    for (float g : withGc.grad()) assertThat(Float.isFinite(g)).isTrue();
                }
            }
        }
    }
}
