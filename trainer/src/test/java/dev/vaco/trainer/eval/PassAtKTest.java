package dev.vaco.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PassAtKTest {

    /** Fraction of k-subsets of n samples (the first c correct) that contain a correct one, by enumeration. */
    private static double bruteForce(int n, int c, int k) {
        long subsets = 0;
        long hits = 0;
        for (int mask = 0; mask < (1 << n); mask++) {
            if (Integer.bitCount(mask) != k) {
                continue;
            }
            subsets++;
            if ((mask & ((1 << c) - 1)) != 0) {
                hits++;
            }
        }
        return (double) hits / subsets;
    }

    @Test
    void matchesEnumerationOverAllKSubsetsForSmallN() {
        for (int n = 1; n <= 10; n++) {
            for (int c = 0; c <= n; c++) {
                for (int k = 1; k <= n; k++) {
                    assertThat(PassAtK.estimate(n, c, k)).as("n=%d c=%d k=%d", n, c, k)
                            .isCloseTo(bruteForce(n, c, k), within(1e-12));
                }
            }
        }
    }

    @Test
    void edgeCasesAndLargeN() {
        assertThat(PassAtK.estimate(200, 0, 100)).isEqualTo(0.0);
        assertThat(PassAtK.estimate(200, 200, 1)).isEqualTo(1.0);
        assertThat(PassAtK.estimate(200, 37, 1)).isCloseTo(37 / 200.0, within(1e-15));
        // Stable where the binomials overflow doubles: C(1000, 500) ~ 1e299.
        double v = PassAtK.estimate(1000, 1, 500);
        assertThat(v).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void rejectsInvalidArguments() {
        assertThatThrownBy(() -> PassAtK.estimate(5, 6, 1)).hasMessageContaining("found 6");
        assertThatThrownBy(() -> PassAtK.estimate(5, 1, 6)).hasMessageContaining("k must be in [1, n=5], found 6");
        assertThatThrownBy(() -> PassAtK.estimate(0, 0, 1)).hasMessageContaining("n must be >= 1");
    }
}
