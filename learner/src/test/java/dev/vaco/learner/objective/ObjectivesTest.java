package dev.vaco.learner.objective;

import ai.djl.ndarray.NDManager;
import dev.vaco.learner.objective.ObjectiveConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.vaco.learner.objective.LossAggregation.SEQ_MEAN_TOKEN_MEAN;
import static dev.vaco.learner.objective.LossAggregation.TOKEN_MEAN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every objective against its plain-loop reference ({@link Reference}) on seeded random inputs (N = 8 responses in
 * groups of 4, T = 7, one empty row). Tolerance, float32 DJL vs double loop: loss within 1e-5 relative + 1e-6;
 * each gradient element within 1e-5 relative + 1e-6 * max|reference gradient|.
 */
class ObjectivesTest {
    static final double RTOL = 1e-5, ATOL = 1e-6;

    static Stream<Arguments> objectives() {
        List<Arguments> out = new ArrayList<>();
        for (LossAggregation agg : LossAggregation.values()) {
            for (Vaco.TvAnchor anchor : Vaco.TvAnchor.values()) {
                for (Vaco.TestScope scope : Vaco.TestScope.values()) {
                    out.add(Arguments.of(new Vaco(0.2, 1.0, anchor, scope, agg, 0.0)));
                    out.add(Arguments.of(new Vaco(0.08, 1.0, anchor, scope, agg, 0.0))); // filters more
                }
            }
            out.add(Arguments.of(new Vaco(0.1, 1.5, Vaco.TvAnchor.BEHAVIOUR, Vaco.TestScope.TOKEN, agg, 0.05)));
            out.add(Arguments.of(new PpoClip(0.2, 0.28, agg)));
            out.add(Arguments.of(new Grpo(0.2, 0.2, agg, 0.0)));
            out.add(Arguments.of(new Grpo(0.1, 0.3, agg, 0.04)));
            out.add(Arguments.of(new DecoupledPpo(0.2, 0.2, 1.5, agg)));
            out.add(Arguments.of(new TruncatedIsReinforce(1.2, agg)));
            out.add(Arguments.of(new Spo(0.2, agg)));
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("objectives")
    void matchesPlainLoopReference(Objective objective) {
        double filtered = 0;
        for (long seed = 1; seed <= 3; seed++) {
            Inputs in = new Inputs(seed, 8, 7, 4);
            Reference.LossGrad expected = reference(objective, in);
            try (NDManager m = NDManager.newBaseManager()) {
                PolicyBatch batch = objective.beginIteration(in.batch(m, true));
                Autograd.Result actual = Autograd.lossAndGrad(objective, batch);
                assertClose(actual, expected, objective + " seed " + seed);
                filtered += actual.metrics().getOrDefault("vaco/filtered_frac", 0.0);
            }
        }
        if (objective instanceof Vaco v && (v.delta() < 0.1 || v.scope() == Vaco.TestScope.TOKEN)) {
            // the inputs exercise the filter: some tokens filtered, not all
            assertThat(filtered).as("filtered share summed over 3 seeds").isBetween(0.01, 2.5);
        }
    }

    /** The analytic reference gradients are themselves checked by central differences (not for sg() terms). */
    @ParameterizedTest
    @MethodSource("objectives")
    void referenceGradientMatchesFiniteDifferences(Objective objective) {
        if (objective instanceof TruncatedIsReinforce) return; // sg(min(q, C)) is not differentiated
        Inputs in = new Inputs(7, 8, 7, 4);
        Reference.LossGrad analytic = reference(objective, in);
        double h = 1e-6;
        for (int i = 0; i < in.n; i++) {
            for (int j = 0; j < in.t; j++) {
                double saved = in.logp[i][j];
                in.logp[i][j] = saved + h;
                double plus = reference(objective, in).loss();
                in.logp[i][j] = saved - h;
                double minus = reference(objective, in).loss();
                in.logp[i][j] = saved;
                assertThat((plus - minus) / (2 * h)).as("%s d/dl[%d][%d]", objective, i, j)
                        .isCloseTo(analytic.grad()[i][j], org.assertj.core.api.Assertions.within(1e-6));
            }
        }
    }

    @Test
    void factoryBuildsEveryNameAndRejectsUnknownOnes() {
        for (String name : Objective.NAMES) {
            ObjectiveConfig d = ObjectiveConfig.defaults();
            ObjectiveConfig c = new ObjectiveConfig(name, d.advantage(), d.advantageEps(), d.dropAllEqualGroups(),
                    d.aggregation(), d.delta(), d.rhoBar(), d.tvAnchor(), d.testScope(), d.klCoef(), d.eps(),
                    d.epsHigh(), d.isCap());
            assertThat(Objective.create(c).name()).isEqualTo(name);
        }
        assertThatThrownBy(() -> new ObjectiveConfig("ppo", null, 0, false, null, 0, 0, null, null, 0, 0, 0, 0))
                .hasMessageContaining("objective.name").hasMessageContaining("vaco, ppo_clip, grpo");
    }

    @Test
    void klCoefficientWithoutReferenceFailsClearly() {
        Inputs in = new Inputs(1, 4, 3, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            Grpo grpo = new Grpo(0.2, 0.2, TOKEN_MEAN, 0.1);
            assertThatThrownBy(() -> grpo.loss(in.batch(m, false))).hasMessageContaining("logpRef");
        }
    }

    @Test
    void metricsHaveStableNames() {
        Inputs in = new Inputs(3, 8, 7, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            Vaco vaco = new Vaco(0.2, 1.0, Vaco.TvAnchor.BEHAVIOUR, Vaco.TestScope.TOKEN, SEQ_MEAN_TOKEN_MEAN, 0.1);
            var metrics = vaco.loss(vaco.beginIteration(in.batch(m, true))).metrics();
            assertThat(metrics).containsKeys("loss/policy", "loss/total", "vaco/filtered_frac", "vaco/tv_behaviour",
                    "vaco/tv_forward", "is/ess", "kl/ref");
            assertThat(metrics.get("is/ess")).isBetween(0.0, 1.0);
            var ppo = new PpoClip(0.2, 0.2, TOKEN_MEAN).loss(in.batch(m, false)).metrics();
            assertThat(ppo).containsKeys("ppo/clip_frac", "ppo/approx_kl");
            assertThat(ppo.get("ppo/clip_frac")).isBetween(0.01, 0.99); // the inputs do exercise the clip
        }
    }

    static Reference.LossGrad reference(Objective o, Inputs in) {
        if (o instanceof Vaco v) return Reference.vaco(in, Reference.align(in, v.rhoBar()), v);
        if (o instanceof PpoClip p) return Reference.ppoClip(in, p);
        if (o instanceof Grpo g) return Reference.grpo(in, g);
        if (o instanceof DecoupledPpo d) return Reference.decoupledPpo(in, d);
        if (o instanceof TruncatedIsReinforce t) return Reference.tisReinforce(in, t);
        if (o instanceof Spo s) return Reference.spo(in, s);
        throw new AssertionError(o);
    }

    static void assertClose(Autograd.Result actual, Reference.LossGrad expected, String what) {
        assertThat(Math.abs(actual.loss() - expected.loss()))
                .as("%s: loss %s vs reference %s", what, actual.loss(), expected.loss())
                .isLessThanOrEqualTo(RTOL * Math.abs(expected.loss()) + ATOL);
        double scale = 0;
        for (double[] row : expected.grad()) for (double g : row) scale = Math.max(scale, Math.abs(g));
        assertThat(scale).as("%s: reference gradient is not trivially zero", what).isGreaterThan(0);
        int t = expected.grad()[0].length;
        for (int i = 0; i < expected.grad().length; i++) {
            for (int j = 0; j < t; j++) {
                double e = expected.grad()[i][j], a = actual.grad()[i * t + j];
                assertThat(Math.abs(a - e)).as("%s: grad[%d][%d] %s vs reference %s", what, i, j, a, e)
                        .isLessThanOrEqualTo(RTOL * Math.abs(e) + ATOL * scale);
            }
        }
    }
}
