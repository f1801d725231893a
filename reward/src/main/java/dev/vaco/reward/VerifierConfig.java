package dev.vaco.reward;

import java.time.Duration;

/**
 * Verifier settings; every default lives in {@link #defaults()}.
 *
 * @param strict             extract \boxed answers only (use for RL: lenient extraction rewards stray numbers)
 * @param timeout            hard wall-clock budget per comparison
 * @param percent            meaning of a percent sign
 * @param floatRelTol        relative tolerance when a written decimal is involved
 * @param floatRounding      decimal places both sides are rounded to when a written decimal is involved
 * @param tailChars          only this many trailing characters of an output are searched
 * @param plainNumbers       allow plain-text numbers and whole-text answers (Math-Verify ExprExtractionConfig)
 * @param orderedLists       bare lists "1, 2" compare in order (Hendrycks) instead of as sets (Math-Verify)
 * @param setRelationInPred  a predicted inequality may match a gold interval (Math-Verify allow_set_relation_comp)
 * @param strictVariables    variable names must match (f(x) is not f(y))
 */
public record VerifierConfig(boolean strict, Duration timeout, PercentConvention percent, double floatRelTol,
                             int floatRounding, int tailChars, boolean plainNumbers, boolean orderedLists,
                             boolean setRelationInPred, boolean strictVariables) {

    public VerifierConfig {
        if (timeout == null || timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new IllegalArgumentException("timeout: expected a duration in (0, 5 min], found " + timeout);
        }
        if (percent == null) {
            throw new IllegalArgumentException("percent: expected one of NUMBER, FRACTION, EITHER, found null");
        }
        if (!(floatRelTol >= 0 && floatRelTol <= 0.1)) {
            throw new IllegalArgumentException("floatRelTol: expected a value in [0, 0.1], found " + floatRelTol);
        }
        if (floatRounding < 0 || floatRounding > 15) {
            throw new IllegalArgumentException("floatRounding: expected 0..15 decimal places, found " + floatRounding);
        }
        if (tailChars < 100 || tailChars > 1_000_000) {
            throw new IllegalArgumentException("tailChars: expected 100..1000000, found " + tailChars);
        }
    }

    public static VerifierConfig defaults() {
        return new VerifierConfig(false, Duration.ofSeconds(1), PercentConvention.FRACTION, 1e-9, 6, 10_000,
                true, false, false, true);
    }

    /** The RL setting: boxed answers only, everything else as {@link #defaults()}. */
    public static VerifierConfig strictDefaults() {
        return defaults().withStrict(true);
    }

    public VerifierConfig withStrict(boolean v) {
        return new VerifierConfig(v, timeout, percent, floatRelTol, floatRounding, tailChars, plainNumbers, orderedLists, setRelationInPred, strictVariables);
    }

    public VerifierConfig withTimeout(Duration v) {
        return new VerifierConfig(strict, v, percent, floatRelTol, floatRounding, tailChars, plainNumbers, orderedLists, setRelationInPred, strictVariables);
    }

    public VerifierConfig withPercent(PercentConvention v) {
        return new VerifierConfig(strict, timeout, v, floatRelTol, floatRounding, tailChars, plainNumbers, orderedLists, setRelationInPred, strictVariables);
    }

    public VerifierConfig withFloatRounding(int v) {
        return new VerifierConfig(strict, timeout, percent, floatRelTol, v, tailChars, plainNumbers, orderedLists, setRelationInPred, strictVariables);
    }

    public VerifierConfig withPlainNumbers(boolean v) {
        return new VerifierConfig(strict, timeout, percent, floatRelTol, floatRounding, tailChars, v, orderedLists, setRelationInPred, strictVariables);
    }

    public VerifierConfig withOrderedLists(boolean v) {
        return new VerifierConfig(strict, timeout, percent, floatRelTol, floatRounding, tailChars, plainNumbers, v, setRelationInPred, strictVariables);
    }

    public VerifierConfig withSetRelationInPred(boolean v) {
        return new VerifierConfig(strict, timeout, percent, floatRelTol, floatRounding, tailChars, plainNumbers, orderedLists, v, strictVariables);
    }

    public VerifierConfig withStrictVariables(boolean v) {
        return new VerifierConfig(strict, timeout, percent, floatRelTol, floatRounding, tailChars, plainNumbers, orderedLists, setRelationInPred, v);
    }
}
