package dev.vaco.reward;

/**
 * What "28\%" means. Graders disagree: PRM800K/Hendrycks MATH strip the sign (28), a literal reading gives 0.28.
 */
public enum PercentConvention {
    /** 28\% equals 28 (default: Hendrycks MATH, PRM800K, and Math-Verify's own tests, "28\%" vs "28 pct"). */
    NUMBER,
    /** 28\% equals 0.28. */
    FRACTION,
    /** Either reading is accepted. */
    EITHER
}
