package dev.vaco.trainer.eval;

import dev.vaco.datasets.SplitMix64;
import java.util.Arrays;

/**
 * Percentile bootstrap over problems: resample the per-problem scores with replacement, take the mean of
 * each resample, and report the {@code (1-confidence)/2} and {@code (1+confidence)/2} quantiles. Seeded
 * with {@link SplitMix64}, so the interval is reproducible everywhere.
 */
public final class Bootstrap {

    public static final int DEFAULT_RESAMPLES = 1000;

    private Bootstrap() {
    }

    public static Interval meanInterval(double[] perProblem, double confidence, long seed) {
        return meanInterval(perProblem, confidence, DEFAULT_RESAMPLES, seed);
    }

    public static Interval meanInterval(double[] perProblem, double confidence, int resamples, long seed) {
        if (perProblem.length == 0) {
            throw new IllegalArgumentException("expected at least one per-problem score, found none");
        }
        if (resamples < 1) {
            throw new IllegalArgumentException("resamples must be >= 1, found " + resamples);
        }
        if (!(confidence > 0 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in (0, 1), found " + confidence);
        }
        int n = perProblem.length;
        SplitMix64 rng = new SplitMix64(seed);
        double[] means = new double[resamples];
        for (int b = 0; b < resamples; b++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += perProblem[rng.nextInt(n)];
            }
            means[b] = sum / n;
        }
        Arrays.sort(means);
        double alpha = (1 - confidence) / 2;
        return new Interval(EvalMetrics.mean(perProblem), quantile(means, alpha), quantile(means, 1 - alpha), confidence);
    }

    /** Linear interpolation between order statistics (type 7, as numpy's default). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
