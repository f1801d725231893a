package dev.vaco.learner.optim;

/**
 * Learning rate at optimiser step {@code s} (0-based): linear warm-up to {@code peakLr}, then cosine decay to
 * {@code peakLr * minLrRatio} at {@code totalSteps}, constant after.
 *
 * <pre>
 *   s &lt; W:  lr = peak * (s + 1) / W                   (the first step is not wasted at lr 0, unlike HF's s / W)
 *   s &gt;= W: p = min(1, (s - W) / max(1, S - W))
 *           lr = peak * (min + (1 - min) * (1 + cos(pi p)) / 2)
 * </pre>
 *
 * @param peakLr      lr after warm-up, &gt; 0
 * @param warmupSteps W &gt;= 0
 * @param totalSteps  S &gt; W
 * @param minLrRatio  floor as a fraction of the peak, in [0, 1]
 */
public record WarmupCosine(double peakLr, int warmupSteps, int totalSteps, double minLrRatio) {

    public WarmupCosine {
        if (!(peakLr > 0)) throw new IllegalArgumentException("peakLr must be > 0, found " + peakLr);
        if (warmupSteps < 0 || totalSteps <= warmupSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps < totalSteps, found " + warmupSteps + " and "
                    + totalSteps);
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new IllegalArgumentException("minLrRatio must be in [0, 1], found " + minLrRatio);
        }
    }

    public double lr(long step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, found " + step);
        if (step < warmupSteps) return peakLr * (step + 1) / warmupSteps;
        double progress = Math.min(1.0, (step - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps));
        return peakLr * (minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
}
