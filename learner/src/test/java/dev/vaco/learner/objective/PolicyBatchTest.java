package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PolicyBatchTest {

    @Test
    void selectTakesRowsOfEveryArrayAndKeepsTheGraph() {
        Inputs in = new Inputs(2, 6, 5, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            PolicyBatch full = in.batch(m, true);
            PolicyBatch mb;
            Objective o = new TruncatedIsReinforce(2.0, LossAggregation.TOKEN_MEAN);
            try (var collector = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                mb = full.select(new long[] {4, 1}); // inside the collector: DJL records no graph outside one
                System.gc(); // the index copy must be libtorch-owned
                collector.backward(o.loss(mb).loss());
            }
            assertThat(mb.groupIds()).containsExactly(in.groupIds[4], in.groupIds[1]);
            assertThat(mb.logpBehaviour().getShape()).isEqualTo(new Shape(2, 5));
            assertThat((double) mb.advantages().toFloatArray()[0]).isCloseTo(in.advantages[4], within(1e-7));
            assertThat((double) mb.mask().toFloatArray()[5]).isEqualTo(in.mask[1][0]);
            // the gradient flowed through the slice back to the full logp, on the selected rows only
            float[] g = full.logp().getGradient().toFloatArray();
            for (int j = 0; j < 5; j++) assertThat(g[j]).isZero();               // row 0 not selected
            double rowFour = 0;
            for (int j = 0; j < 5; j++) rowFour += Math.abs(g[4 * 5 + j]);
            assertThat(rowFour).isGreaterThan(0);
        }
    }

    @Test
    void shapesAreCheckedWithExpectedAndFound() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray nt = m.zeros(new Shape(2, 3));
            assertThatThrownBy(() -> PolicyBatch.of(nt, nt, m.zeros(new Shape(2, 4)), m.zeros(new Shape(2)), nt,
                    new int[] {0, 0}))
                    .hasMessageContaining("logpBehaviour must be [N, T] = (2, 3) like logp, found (2, 4)");
            assertThatThrownBy(() -> PolicyBatch.of(nt, nt, nt, m.zeros(new Shape(3)), nt, new int[] {0, 0}))
                    .hasMessageContaining("advantages must be [N] = (2) or [N, T] = (2, 3), found (3)");
        }
    }

    @Test
    void mismatchKlIsZeroWhenEnginesAgreeAndMatchesTheLoop() {
        Inputs in = new Inputs(9, 4, 6, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray lT = Inputs.array(m, in.logpStart), mask = Inputs.array(m, in.mask);
            assertThat(Diagnostics.mismatchKl(lT, lT, mask)).isEqualTo(0.0);
            double sum = 0, n = 0;
            for (int i = 0; i < in.n; i++) {
                for (int j = 0; j < in.t; j++) {
                    double d = in.logpStart[i][j] - in.logpBehaviour[i][j]; // log r, r = pi_T / pi_b
                    sum += in.mask[i][j] * (Math.exp(d) - d - 1);
                    n += in.mask[i][j];
                }
            }
            assertThat(Diagnostics.mismatchKl(Inputs.array(m, in.logpBehaviour), lT, mask))
                    .isCloseTo(sum / n, within(1e-6));
        }
    }
}
