package dev.vaco.trainer.eval;

/**
 * A point estimate with a confidence interval.
 *
 * @param confidence e.g. 0.95
 */
public record Interval(double estimate, double lower, double upper, double confidence) {

    public Interval {
        if (!(lower <= upper)) {
            throw new IllegalArgumentException("lower must be <= upper, found " + lower + " > " + upper);
        }
        if (!(confidence > 0 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in (0, 1), found " + confidence);
        }
    }
}
