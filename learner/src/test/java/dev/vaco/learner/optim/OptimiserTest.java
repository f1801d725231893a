package dev.vaco.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class OptimiserTest {

    @Test
    void globalNormClipScalesAllGradientsTogetherAndReturnsThePreClipNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("a", Params.leaf(m, new float[] {1, 1}, new Shape(2)));
            params.put("b", Params.leaf(m, new float[] {1, 1, 1}, new Shape(3)));
            Params.backwardWithGradients(params, Map.of("a", new float[] {3, 0}, "b", new float[] {0, 4, 12}));
            assertThat(Gradients.clipByGlobalNorm(params, 1.0)).isCloseTo(13.0, within(1e-5)); // sqrt(9+16+144)
            assertThat(Gradients.globalNorm(params)).isCloseTo(1.0, within(1e-5));
            float[] a = params.get("a").getGradient().toFloatArray(), b = params.get("b").getGradient().toFloatArray();
            assertThat(a[0] / b[2]).isCloseTo(3f / 12f, within(1e-6f)); // direction kept
            // below the threshold: untouched
            assertThat(Gradients.clipByGlobalNorm(params, 5.0)).isCloseTo(1.0, within(1e-5));
            assertThat(params.get("a").getGradient().toFloatArray()).containsExactly(a);
        }
    }

    @Test
    void scheduleWarmsUpLinearlyThenDecaysByCosine() {
        WarmupCosine s = new WarmupCosine(1e-3, 10, 110, 0.1);
        assertThat(s.lr(0)).isCloseTo(1e-4, within(1e-12));
        assertThat(s.lr(4)).isCloseTo(5e-4, within(1e-12));
        assertThat(s.lr(9)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.lr(10)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.lr(60)).isCloseTo(1e-3 * (0.1 + 0.9 * 0.5), within(1e-12));   // half-way: cos = 0
        assertThat(s.lr(35)).isCloseTo(1e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4))), within(1e-12));
        assertThat(s.lr(110)).isCloseTo(1e-4, within(1e-12));
        assertThat(s.lr(500)).isCloseTo(1e-4, within(1e-12));
        assertThat(new WarmupCosine(1e-3, 0, 10, 0).lr(0)).isCloseTo(1e-3, within(1e-12));
    }

    /** The RL schedule counts learner steps: with 4 optimiser steps per learner step it ends where the run ends. */
    @Test
    void theRlScheduleSpansTheRunWhateverTheOptimiserStepsPerLearnerStep() {
        OptimConfig c = withWarmup(OptimConfig.defaults(), 2);
        int learnerSteps = 10, perStep = 4;
        WarmupCosine byLearnerStep = new WarmupCosine(c.lr(), 2, learnerSteps, c.minLrRatio());
        try (NDManager m = NDManager.newBaseManager();
             Optimiser opt = Optimiser.from(m, c, learnerSteps, perStep)) {
            Map<String, NDArray> params = Map.of("p", Params.leaf(m, new float[] {1, 2, 3}, new Shape(3)));
            for (int s = 0; s < learnerSteps; s++) {
                for (int k = 0; k < perStep; k++) {
                    Params.backwardWithGradients(params, Map.of("p", new float[] {0.1f, 0.2f, 0.3f}));
                    double lr = opt.step(params, 0.5).lr();
                    // every optimiser step of learner step s runs at the learner-step schedule's lr(s)
                    assertThat(lr).as("learner step %d, update %d", s, k).isCloseTo(byLearnerStep.lr(s), within(1e-12));
                }
            }
            assertThat(opt.appliedSteps()).isEqualTo((long) learnerSteps * perStep);
        }
    }

    private static OptimConfig withWarmup(OptimConfig c, int warmup) {
        return new OptimConfig(c.lr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay(), c.maxGradNorm(), warmup,
                c.minLrRatio(), c.minibatches());
    }

    @Test
    void guardSkipsANonFiniteStepWithoutTouchingParametersOrState() {
        try (NDManager m = NDManager.newBaseManager();
             Optimiser opt = new Optimiser(new AdamW(m, 0.9, 0.999, 1e-8, 0.01), new WarmupCosine(1e-2, 0, 10, 0),
                     1.0)) {
            Map<String, NDArray> params = Map.of("p", Params.leaf(m, new float[] {1, 2, 3}, new Shape(3)));
            // a good step
            Params.backwardWithGradients(params, Map.of("p", new float[] {0.1f, 0.2f, 0.3f}));
            assertThat(opt.step(params, 0.5).applied()).isTrue();
            float[] before = params.get("p").toFloatArray();
            AdamW.State stateBefore = opt.adamW().exportState();
            // NaN in the gradient
            Params.backwardWithGradients(params, Map.of("p", new float[] {Float.NaN, 0.2f, 0.3f}));
            Optimiser.Report r = opt.step(params, 0.5);
            assertThat(r.applied()).isFalse();
            assertThat(r.gradNorm()).isNaN();
            assertThat(r.skipped()).isEqualTo(1);
            // finite gradient, infinite loss
            Params.backwardWithGradients(params, Map.of("p", new float[] {0.1f, 0.2f, 0.3f}));
            assertThat(opt.step(params, Double.POSITIVE_INFINITY).applied()).isFalse();
            assertThat(params.get("p").toFloatArray()).containsExactly(before);
            assertThat(opt.adamW().steps("p")).isEqualTo(1);
            assertThat(opt.adamW().exportState().expAvg().get("p")).containsExactly(stateBefore.expAvg().get("p"));
            assertThat(opt.adamW().exportState().expAvgSq().get("p")).containsExactly(stateBefore.expAvgSq().get("p"));
            assertThat(params.get("p").getGradient().toFloatArray()).containsExactly(0f, 0f, 0f); // NaN cleared
            assertThat(opt.appliedSteps()).isEqualTo(1);
            // and training goes on
            Params.backwardWithGradients(params, Map.of("p", new float[] {0.1f, 0.2f, 0.3f}));
            assertThat(opt.step(params, 0.5).applied()).isTrue();
            assertThat(params.get("p").toFloatArray()).doesNotContain(before[0]);
        }
    }

    @Test
    void minibatchesAreASeededPartition() {
        List<long[]> a = Minibatches.split(10, 3, 7), b = Minibatches.split(10, 3, 7), c = Minibatches.split(10, 3, 8);
        assertThat(a).hasSize(3);
        assertThat(a.stream().mapToInt(x -> x.length)).containsExactly(4, 3, 3);
        assertThat(a.stream().flatMapToLong(java.util.Arrays::stream).sorted().toArray())
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        for (int i = 0; i < 3; i++) assertThat(b.get(i)).containsExactly(a.get(i));
        assertThat(c.get(0)).isNotEqualTo(a.get(0));
    }
}
