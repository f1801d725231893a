package dev.vaco.learner.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded split of a batch's rows into minibatches (the caller loops over them, once per update). */
public final class Minibatches {
    private Minibatches() {}

    /**
     * A seeded permutation of {@code 0..n-1} cut into {@code count} minibatches whose sizes differ by at most one.
     * Use a different seed per update (e.g. {@code seed * 1_000_003 + step * 31 + update}) to reshuffle.
     *
     * @return {@code count} arrays of row indices, for {@code PolicyBatch.select}
     */
    public static List<long[]> split(int n, int count, long seed) {
        if (n < 1 || count < 1 || count > n) {
            throw new IllegalArgumentException("need 1 <= count <= n rows, found count " + count + " and n " + n);
        }
        long[] order = new long[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            long t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        List<long[]> out = new ArrayList<>(count);
        for (int b = 0, start = 0; b < count; b++) {
            int size = n / count + (b < n % count ? 1 : 0);
            long[] rows = new long[size];
            System.arraycopy(order, start, rows, 0, size);
            out.add(rows);
            start += size;
        }
        return out;
    }
}
