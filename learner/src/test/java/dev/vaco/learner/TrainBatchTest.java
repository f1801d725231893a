package dev.vaco.learner;

import ai.djl.ndarray.NDManager;
import dev.vaco.datasets.Problem;
import dev.vaco.learner.policy.Engines;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainBatchTest {
    private static final Problem P = new Problem("p", "q", "1", null, "test", null, null);

    @Test
    void completionTokensSitWhereTheyArePredicted() {
        Rollout a = new Rollout(P, 0, new int[] {5, 6, 7}, new int[] {8, 9}, new float[] {-0.5f, -0.25f}, new long[] {3, 4}, 1, "CORRECT", "stop");
        Rollout b = new Rollout(P, 1, new int[] {5}, new int[] {10, 11, 12}, new float[] {-1, -2, -3}, new long[] {4, 4, 4}, 0, "WRONG", "length");
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            TrainBatch t = TrainBatch.build(m, List.of(a, b), 4, 0);
            // T = max(3 + 2, 1 + 3) - 1 = 4
            assertThat(t.tokens().getShape().getShape()).containsExactly(2, 4);
            assertThat(t.tokens().toIntArray()).containsExactly(5, 6, 7, 8, /* row b */ 5, 10, 11, 0);
            assertThat(t.targets().toIntArray()).containsExactly(6, 7, 8, 9, /* row b */ 10, 11, 12, 0);
            assertThat(t.mask().toFloatArray()).containsExactly(0, 0, 1, 1, /* row b */ 1, 1, 1, 0);
            assertThat(t.behaviour().toFloatArray()).containsExactly(0, 0, -0.5f, -0.25f, -1, -2, -3, 0);
            assertThat(t.lag().toFloatArray()).containsExactly(0, 0, 1, 0, 0, 0, 0, 0);
            assertThat(t.completionTokens()).isEqualTo(5);
            assertThat(t.groupIds()).containsExactly(0, 1);
        }
    }

    @Test
    void mismatchedPerTokenArraysAreRefused() {
        assertThatThrownBy(() -> new Rollout(P, 0, new int[] {1}, new int[] {2, 3}, new float[] {0}, new long[] {0, 0}, 0, "WRONG", "stop"))
                .hasMessageContaining("one entry per token");
    }
}
