package dev.vaco.trainer.eval;

/**
 * The unbiased pass@k estimator of Chen et al. (2021), {@code 1 - C(n-c, k) / C(n, k)}: the probability
 * that at least one of k samples drawn without replacement from n (c of them correct) is correct.
 * Computed as {@code 1 - prod_{i=n-c+1}^{n} (1 - k/i)}, which never forms the huge binomials.
 */
public final class PassAtK {

    private PassAtK() {
    }

    /**
     * @param n samples drawn (n >= 1)
     * @param c correct samples (0 <= c <= n)
     * @param k budget (1 <= k <= n)
     */
    public static double estimate(int n, int c, int k) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, found " + n);
        }
        if (c < 0 || c > n) {
            throw new IllegalArgumentException("c must be in [0, n=" + n + "], found " + c);
        }
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("k must be in [1, n=" + n + "], found " + k);
        }
        if (n - c < k) {
            return 1.0; // every k-subset contains a correct sample
        }
        double allWrong = 1.0;
        for (int i = n - c + 1; i <= n; i++) {
            allWrong *= 1.0 - (double) k / i;
        }
        return 1.0 - allWrong;
    }
}
