package dev.vaco.learner.objective;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Vectorised estimators against a per-group loop; tolerance 1e-6 absolute on float32 advantages of size ~1. */
class GroupAdvantagesTest {

    /** 5 groups of 4 in shuffled order; group 7 all-equal (1, 1, 1, 1); group 9 a single response. */
    static final int[] GROUPS = {3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 8, 8, 8, 8, 9};

    static float[] rewards(long seed) {
        Random r = new Random(seed);
        float[] out = new float[GROUPS.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = GROUPS[i] == 7 ? 1f : (float) (r.nextInt(3) * 0.5 + r.nextGaussian() * 0.1);
        }
        return out;
    }

    /** The loop: mean, unbiased std per group; all-equal (or size-1) groups get 0. */
    static double[] reference(float[] rewards, AdvantageEstimator estimator, double eps) {
        double[] out = new double[rewards.length];
        for (int i = 0; i < rewards.length; i++) {
            double sum = 0, count = 0, max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
            for (int k = 0; k < rewards.length; k++) {
                if (GROUPS[k] != GROUPS[i]) continue;
                sum += rewards[k];
                count++;
                max = Math.max(max, rewards[k]);
                min = Math.min(min, rewards[k]);
            }
            double mean = sum / count, ss = 0;
            for (int k = 0; k < rewards.length; k++) {
                if (GROUPS[k] == GROUPS[i]) ss += (rewards[k] - mean) * (rewards[k] - mean);
            }
            double std = Math.sqrt(ss / Math.max(1, count - 1));
            double centred = rewards[i] - mean;
            out[i] = max == min ? 0 : estimator == AdvantageEstimator.GRPO ? centred / (std + eps) : centred;
        }
        return out;
    }

    @Test
    void matchesPerGroupLoop() {
        for (AdvantageEstimator estimator : AdvantageEstimator.values()) {
            for (long seed = 1; seed <= 3; seed++) {
                float[] rewards = rewards(seed);
                try (NDManager m = NDManager.newBaseManager()) {
                    GroupAdvantages.Result r = GroupAdvantages.compute(m, rewards, GROUPS, estimator, 1e-6, false);
                    assertThat(r.advantages().toFloatArray()).hasSize(rewards.length);
                    double[] expected = reference(rewards, estimator, 1e-6);
                    float[] actual = r.advantages().toFloatArray();
                    for (int i = 0; i < expected.length; i++) {
                        assertThat((double) actual[i]).as("%s row %d", estimator, i)
                                .isCloseTo(expected[i], within(1e-6));
                    }
                    assertThat(r.metrics().get("adv/all_equal_groups")).isEqualTo(2.0); // group 7 and singleton 9
                    assertThat(r.metrics().get("adv/all_equal_group_frac")).isCloseTo(2 / 5.0, within(1e-12));
                }
            }
        }
    }

    @Test
    void grpoUsesTheUnbiasedSampleStd() {
        // one group {0, 1}: mean 0.5, sample std sqrt(0.5) (population std would be 0.5)
        try (NDManager m = NDManager.newBaseManager()) {
            var r = GroupAdvantages.compute(m, new float[] {0, 1}, new int[] {1, 1}, AdvantageEstimator.GRPO, 1e-6,
                    false);
            assertThat((double) r.advantages().toFloatArray()[1])
                    .isCloseTo(0.5 / (Math.sqrt(0.5) + 1e-6), within(1e-6));
        }
    }

    @Test
    void aBatchOfOnlyAllEqualGroupsDropsToNothing() {
        try (NDManager m = NDManager.newBaseManager()) {
            var r = GroupAdvantages.compute(m, new float[] {1, 1, 0, 0}, new int[] {1, 1, 2, 2},
                    AdvantageEstimator.GRPO, 1e-6, true);
            assertThat(r.keptRows()).isEmpty();
            assertThat(r.advantages().size()).isZero();
            assertThat(r.metrics().get("adv/all_equal_group_frac")).isEqualTo(1.0);
        }
    }

    @Test
    void dropsAllEqualGroupsWhenAsked() {
        float[] rewards = rewards(4);
        try (NDManager m = NDManager.newBaseManager()) {
            var r = GroupAdvantages.compute(m, rewards, GROUPS, AdvantageEstimator.DR_GRPO, 1e-6, true);
            assertThat(r.keptRows()).containsExactly(0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 14, 15);
            double[] expected = reference(rewards, AdvantageEstimator.DR_GRPO, 1e-6);
            float[] actual = r.advantages().toFloatArray();
            for (int j = 0; j < r.keptRows().length; j++) {
                assertThat((double) actual[j]).isCloseTo(expected[(int) r.keptRows()[j]], within(1e-6));
            }
            assertThat(r.metrics().get("adv/kept_frac")).isCloseTo(12 / 17.0, within(1e-12));
        }
    }
}
