package dev.vaco.reward;

/**
 * What "28\%" means. Graders disagree: Math-Verify reads the sign as a factor 1/100 (28\% = 0.28), Hendrycks MATH
 * and PRM800K strip it (28\% = 28).
 */
public enum PercentConvention {
    /** 28\% equals 28 (Hendrycks MATH, PRM800K). */
    NUMBER,
    /** 28\% equals 0.28 (default: Math-Verify's default reading; "28\%" and "28 pct" are both 0.28). */
    FRACTION,
    /** Either reading is accepted. */
    EITHER
}
