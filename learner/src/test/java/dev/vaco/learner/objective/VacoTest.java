package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class VacoTest {

    /** Spec's example: ratios 2, 2, 0.5, 0.5; advantages +1, -1, +1, -1; per-token test, delta 0.2 -> 0, 1, 1, 0. */
    @Test
    void filterExampleFromTheSpec() {
        double[] q = {2, 2, 0.5, 0.5}, a = {1, -1, 1, -1};
        double[][] lb = {{-1, -1, -1, -1}}, l = new double[1][4], adv = {a}, mask = {{1, 1, 1, 1}};
        for (int t = 0; t < 4; t++) l[0][t] = lb[0][t] + Math.log(q[t]);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logp = Inputs.array(m, l);
            logp.setRequiresGradient(true);
            // logpStart = logp (r = 1) and the advantages already aligned: the filter alone decides the gradient
            PolicyBatch batch = PolicyBatch.of(logp, Inputs.array(m, l), Inputs.array(m, lb), Inputs.array(m, adv),
                    Inputs.array(m, mask), new int[] {0});
            Vaco vaco = new Vaco(0.2, 1.0, Vaco.TvAnchor.BEHAVIOUR, Vaco.TestScope.TOKEN,
                    LossAggregation.TOKEN_MEAN, 0);
            Autograd.Result r = Autograd.lossAndGrad(vaco, batch);
            double[] keep = new double[4];
            for (int t = 0; t < 4; t++) keep[t] = -r.grad()[t] * 4 / a[t]; // grad_t = -m_t r_t A~_t / N_tokens
            assertThat(keep).containsExactly(new double[] {0, 1, 1, 0}, within(1e-6));
            assertThat(r.metrics().get("vaco/filtered_frac")).isEqualTo(0.5);
            assertThat(r.metrics().get("vaco/tv_behaviour")).isCloseTo((0.5 + 0.5 + 0.25 + 0.25) / 4, within(1e-6));
        }
    }

    /**
     * At the first minibatch (logp == logpStart, r = 1) and with every token inside the TV ball, VACO's gradient is
     * the truncated-IS-weighted policy gradient -min(rho_bar, exp(lT - lb)) A_i / N_tokens, i.e. that of
     * TruncatedIsReinforce with C = rho_bar.
     */
    @Test
    void firstMinibatchGradientIsTruncatedIsPolicyGradient() {
        Inputs in = new Inputs(11, 8, 7, 4);
        for (int i = 0; i < in.n; i++) {
            for (int j = 0; j < in.t; j++) {
                // small backward lag: |q - 1| < 0.35, tv < 0.175 < delta, so nothing is filtered
                in.logpStart[i][j] = Inputs.f(in.logpBehaviour[i][j] + 0.25 * Math.sin(7 * i + 3 * j));
                in.logp[i][j] = in.logpStart[i][j];
            }
        }
        double rhoBar = 1.0;
        Vaco vaco = new Vaco(0.2, rhoBar, Vaco.TvAnchor.BEHAVIOUR, Vaco.TestScope.TOKEN, LossAggregation.TOKEN_MEAN, 0);
        try (NDManager m = NDManager.newBaseManager()) {
            Autograd.Result v = Autograd.lossAndGrad(vaco, vaco.beginIteration(in.batch(m, false)));
            Autograd.Result tis = Autograd.lossAndGrad(new TruncatedIsReinforce(rhoBar, LossAggregation.TOKEN_MEAN),
                    in.batch(m, false));
            assertThat(v.metrics().get("vaco/filtered_frac")).isZero();
            double tokens = 0;
            for (double[] row : in.mask) tokens += Reference.sum(row);
            for (int i = 0; i < in.n; i++) {
                for (int j = 0; j < in.t; j++) {
                    double w = Math.min(rhoBar, Math.exp(in.logpStart[i][j] - in.logpBehaviour[i][j]));
                    double expected = -w * in.advantages[i] * in.mask[i][j] / tokens;
                    assertThat((double) v.grad()[i * in.t + j]).isCloseTo(expected, within(1e-7));
                    assertThat(v.grad()[i * in.t + j]).isCloseTo(tis.grad()[i * in.t + j], within(1e-7f));
                }
            }
        }
    }

    /** Align happens once: the aligned advantages do not move when the learner does. */
    @Test
    void alignIsFrozenForTheIteration() {
        Inputs in = new Inputs(5, 4, 5, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            Vaco vaco = new Vaco(0.2, 1.0, Vaco.TvAnchor.BEHAVIOUR, Vaco.TestScope.TOKEN,
                    LossAggregation.TOKEN_MEAN, 0);
            PolicyBatch aligned = vaco.beginIteration(in.batch(m, false));
            float[] before = aligned.advantages().toFloatArray();
            PolicyBatch later = aligned.withLogp(aligned.logp().add(0.5f)); // the learner moved
            assertThat(later.advantages().toFloatArray()).containsExactly(before);
            double[][] expected = Reference.align(in, 1.0);
            for (int i = 0; i < in.n; i++) {
                for (int j = 0; j < in.t; j++) {
                    assertThat((double) before[i * in.t + j]).isCloseTo(expected[i][j], within(1e-6));
                }
            }
        }
    }
}
