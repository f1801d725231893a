package dev.vaco.datasets;

/**
 * A tiny seeded PRNG with a fixed, written-down algorithm (Steele, Lea and Flood's SplitMix64), so that
 * shuffles, splits and synthetic problems are identical on every JVM version and vendor. Not thread-safe.
 */
public final class SplitMix64 {

    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, bound), unbiased (rejection of the short tail). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be > 0, found " + bound);
        }
        while (true) {
            long r = nextLong() >>> 1; // 63 uniform bits
            long m = r % bound;
            if (r - m + (bound - 1) >= 0) { // reject the incomplete last block (no overflow)
                return (int) m;
            }
        }
    }

    /** Uniform in [lo, hi], inclusive. */
    public int between(int lo, int hi) {
        if (hi < lo) {
            throw new IllegalArgumentException("empty range [" + lo + ", " + hi + "]");
        }
        return lo + nextInt(hi - lo + 1);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }
}
