package dev.vaco.datasets;

import java.util.List;
import java.util.Objects;

/**
 * Relative weights of the synthetic levels 1..9 (index 0 is level 1).
 *
 * <p>{@link #DEFAULT} = 15% L1, 20% L2, 25% L3, 20% L4, 20% L5 (none of the step chains, levels 6-9): enough easy problems for a tiny model
 * to get early reward, with most mass on the mixed-operation and word levels it should learn.
 */
public record LevelMix(List<Double> weights) {

    public static final LevelMix DEFAULT = new LevelMix(List.of(0.15, 0.20, 0.25, 0.20, 0.20, 0.0, 0.0, 0.0, 0.0));

    public LevelMix {
        Objects.requireNonNull(weights, "weights");
        if (weights.size() != SyntheticMath.MAX_LEVEL) {
            throw new IllegalArgumentException("expected " + SyntheticMath.MAX_LEVEL + " weights (levels 1.."
                    + SyntheticMath.MAX_LEVEL + "), found " + weights.size());
        }
        double sum = 0;
        for (Double w : weights) {
            if (w == null || !(w >= 0) || w.isInfinite()) {
                throw new IllegalArgumentException("weights must be finite and >= 0, found " + weights);
            }
            sum += w;
        }
        if (sum <= 0) {
            throw new IllegalArgumentException("at least one weight must be > 0, found " + weights);
        }
        weights = List.copyOf(weights);
    }

    /** Uniform over the given levels. */
    public static LevelMix of(int... levels) {
        if (levels.length == 0) {
            throw new IllegalArgumentException("expected at least one level, found none");
        }
        Double[] w = new Double[SyntheticMath.MAX_LEVEL];
        java.util.Arrays.fill(w, 0.0);
        for (int level : levels) {
            SyntheticMath.requireLevel(level);
            w[level - 1] = 1.0;
        }
        return new LevelMix(List.of(w));
    }

    int sample(SplitMix64 rng) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double u = rng.nextDouble() * total;
        int last = 0;
        for (int i = 0; i < weights.size(); i++) {
            if (weights.get(i) > 0) {
                last = i;
                if (u < weights.get(i)) {
                    return i + 1;
                }
                u -= weights.get(i);
            }
        }
        return last + 1; // rounding at the top end
    }
}
