package dev.vaco.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.vaco.datasets.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BootstrapTest {

    @Test
    void seededIntervalIsReproducibleAndCoversTheMean() {
        SplitMix64 rng = new SplitMix64(4);
        double[] xs = new double[400];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = rng.nextDouble() < 0.3 ? 1 : 0;
        }
        Interval a = Bootstrap.meanInterval(xs, 0.95, 2000, 1);
        Interval b = Bootstrap.meanInterval(xs, 0.95, 2000, 1);
        assertThat(a).isEqualTo(b);
        assertThat(a.lower()).isLessThan(a.estimate());
        assertThat(a.upper()).isGreaterThan(a.estimate());
        // Normal approximation for a proportion: half-width ~ 1.96 * sqrt(p(1-p)/n).
        double p = a.estimate();
        double half = 1.96 * Math.sqrt(p * (1 - p) / xs.length);
        assertThat(a.upper() - a.lower()).isCloseTo(2 * half, within(0.2 * 2 * half));
        assertThat(Bootstrap.meanInterval(xs, 0.95, 2000, 2)).isNotEqualTo(a);
    }

    @Test
    void constantScoresGiveAPointInterval() {
        Interval i = Bootstrap.meanInterval(new double[] {1, 1, 1}, 0.9, 100, 0);
        assertThat(i.lower()).isEqualTo(1.0);
        assertThat(i.upper()).isEqualTo(1.0);
    }

    @Test
    void metricsWithIntervalOverProblems() {
        List<ProblemSamples> ps = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ps.add(new ProblemSamples("p" + i, null, null, List.of(new JudgedSample("x", i % 2 == 0))));
        }
        Interval i = EvalMetrics.withInterval(ps, p -> EvalMetrics.meanAtK(p, 1), 0.95, 500, 3);
        assertThat(i.estimate()).isEqualTo(0.5);
        assertThat(i.lower()).isBetween(0.3, 0.5);
        assertThat(i.upper()).isBetween(0.5, 0.7);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> Bootstrap.meanInterval(new double[0], 0.95, 10, 0)).hasMessageContaining("found none");
        assertThatThrownBy(() -> Bootstrap.meanInterval(new double[] {1}, 1.0, 10, 0)).hasMessageContaining("found 1.0");
        assertThatThrownBy(() -> Bootstrap.meanInterval(new double[] {1}, 0.9, 0, 0)).hasMessageContaining("found 0");
    }
}
