package dev.vaco.server.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {
    private static SamplingParams params(double t, double p, int k, int top) {
        return new SamplingParams(1, t, p, k, 16, List.of(), List.of(), 1L, top, false);
    }

    private static float[] logits(long seed, int v) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] l = new float[v];
        for (int i = 0; i < v; i++) l[i] = (float) (r.nextDouble() * 6 - 3);
        return l;
    }

    @Test
    void logprobIsLogSoftmaxAfterTemperature() {
        float[] l = logits(1, 50);
        Sampler s = new Sampler();
        var out = s.sample(l, params(0.7, 1, 0, 0), new SplittableRandom(3));
        double z = 0;
        for (float x : l) z += Math.exp(x / 0.7);
        assertThat((double) out.logprob()).isCloseTo(l[out.token()] / 0.7 - Math.log(z), within(1e-5));
    }

    @Test
    void expToFloatIsWithinOneFloatUlpOfMathExp() {
        // the oracle is (float) Math.exp; allow one float ulp (the Taylor error, < 1e-8, can tip a rounding)
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            double x = i < 100_000 ? r.nextDouble(-120, 0) : r.nextDouble(-20, 88);
            float want = (float) Math.exp(x), got = Sampler.expToFloat(x);
            assertThat(Math.abs(got - want)).as("x = %s", x).isLessThanOrEqualTo(Math.ulp(want));
        }
        assertThat(Sampler.expToFloat(0)).isEqualTo(1f);
        assertThat(Sampler.expToFloat(Double.NEGATIVE_INFINITY)).isEqualTo(0f);
        assertThat(Sampler.expToFloat(-103.9)).isEqualTo((float) Math.exp(-103.9)); // float subnormal range
        assertThat(Sampler.expToFloat(Double.NaN)).isNaN();
    }

    @Test
    void untruncatedDrawsAndLogprobsMatchTheNaiveSampler() {
        Sampler s = new Sampler();
        int differ = 0;
        for (long seed = 0; seed < 300; seed++) {
            float[] l = logits(100 + seed, 2000);
            double t = seed % 2 == 0 ? 0.7 : 1.3;
            var got = s.sample(l, params(t, 1, 0, 0), new SplittableRandom(seed));
            var want = NaiveSampling.full(l, t, new SplittableRandom(seed).nextDouble());
            // float weights vs double: a draw may land in the rounding gap between two ids' CDF edges, rarely
            if (got.token() != want.token()) differ++;
            else assertThat((double) got.logprob()).isCloseTo(want.logprob(), within(1e-5));
        }
        assertThat(differ).isLessThanOrEqualTo(1);
    }

    @Test
    void greedyIsArgmaxWithTemperatureOneLogprob() {
        float[] l = logits(2, 40);
        var out = new Sampler().sample(l, params(0, 1, 0, 3), new SplittableRandom(1));
        assertThat(out.token()).isEqualTo(Sampler.argmax(l));
        assertThat(out.topIds()[0]).isEqualTo(out.token());
        assertThat(out.topLogprobs()[0]).isEqualTo(out.logprob());
        assertThat(out.topLogprobs()[1]).isLessThanOrEqualTo(out.topLogprobs()[0]);
    }

    @Test
    void samplingFrequenciesMatchTheDistribution() {
        float[] l = {0f, 1f, 2f, -1f};
        Sampler s = new Sampler();
        SplittableRandom r = new SplittableRandom(7);
        int[] counts = new int[4];
        int n = 200_000;
        for (int i = 0; i < n; i++) counts[s.sample(l, params(1, 1, 0, 0), r).token()]++;
        double z = 0;
        for (float x : l) z += Math.exp(x);
        for (int i = 0; i < 4; i++) assertThat(counts[i] / (double) n).isCloseTo(Math.exp(l[i]) / z, within(0.005));
    }

    @Test
    void topKAndTopPOnlyDrawFromTheKeptSet() {
        float[] l = {5f, 4f, 3f, 0f, -2f};
        Sampler s = new Sampler();
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 5000; i++) assertThat(s.sample(l, params(1, 1, 2, 0), r).token()).isIn(0, 1);
        // p(0) ~ 0.66, p(1) ~ 0.24: top_p 0.8 keeps exactly {0, 1}
        int[] seen = new int[5];
        for (int i = 0; i < 20000; i++) seen[s.sample(l, params(1, 0.8, 0, 0), r).token()]++;
        assertThat(seen[2] + seen[3] + seen[4]).isZero();
        assertThat(seen[1]).isGreaterThan(0);
    }

    @Test
    void truncatedSamplingEqualsTheFullSortOracle() {
        Sampler s = new Sampler();
        int checked = 0;
        for (int v : new int[] {7, 300, 20_000}) {
            for (long seed = 0; seed < 6; seed++) {
                float[] l = logits(seed, v);
                // ties and a peaked or flat shape: rounded logits, scaled up or down
                double scale = seed % 3 == 0 ? 8 : seed % 3 == 1 ? 0.2 : 1;
                for (int i = 0; i < v; i++) l[i] = (float) (Math.round(l[i] * 4) / 4.0 * scale);
                for (double[] pk : new double[][] {{0.9, 0}, {0.5, 0}, {1.0, 5}, {0.95, 40}, {0.999, 0}, {0.3, 3}}) {
                    for (double t : new double[] {1.0, 0.7}) {
                        SplittableRandom r = new SplittableRandom(seed * 31 + v), oracle = new SplittableRandom(seed * 31 + v);
                        for (int draw = 0; draw < 10; draw++) {
                            int got = s.sample(l, params(t, pk[0], (int) pk[1], 0), r).token();
                            assertThat(got).isEqualTo(NaiveSampling.truncated(l, t, (int) pk[1], pk[0], oracle.nextDouble()));
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(3 * 6 * 6 * 2 * 10);
    }

    @Test
    void sameSeedSameDraws() {
        float[] l = logits(5, 100);
        Sampler s = new Sampler();
        SplittableRandom a = new SplittableRandom(42), b = new SplittableRandom(42);
        for (int i = 0; i < 100; i++) assertThat(s.sample(l, params(1, 0.9, 20, 0), a).token())
                .isEqualTo(s.sample(l, params(1, 0.9, 20, 0), b).token());
    }

    @Test
    void badParamsNameTheirField() {
        assertThatThrownBy(() -> params(Double.NaN, 1, 0, 0)).isInstanceOf(InvalidRequestException.class)
                .hasMessageStartingWith("temperature");
        assertThatThrownBy(() -> params(1, 0, 0, 0)).hasMessageStartingWith("top_p");
        assertThatThrownBy(() -> params(1, 1, -1, 0)).hasMessageStartingWith("top_k");
        assertThatThrownBy(() -> params(1, 1, 0, 21)).hasMessageStartingWith("top_logprobs");
        assertThatThrownBy(() -> new SamplingParams(0, 1, 1, 0, 5, null, null, null, 0, false))
                .satisfies(e -> assertThat(((InvalidRequestException) e).field()).isEqualTo("n"));
    }

    @Test
    void stopCheckerFindsStopsAcrossTokenBoundaries() {
        StopChecker c = new StopChecker(List.of("\n\n", "END"));
        assertThat(c.find("abc\n", 3)).isEqualTo(-1);
        assertThat(c.find("abc\n\n", 4)).isEqualTo(3);
        assertThat(c.find("xxEN", 3)).isEqualTo(-1);
        assertThat(c.find("xxEND", 4)).isEqualTo(2);
    }
}
