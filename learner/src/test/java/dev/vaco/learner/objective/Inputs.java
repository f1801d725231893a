package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Seeded random minibatch in plain Java (float-rounded doubles), and its copy as DJL arrays.
 * Shapes: N responses, T tokens, G responses per group. Row lengths random in [1, T] and one empty row (all padding).
 */
final class Inputs {
    final int n, t;
    final double[][] logp, logpStart, logpBehaviour, logpRef, mask;
    final double[] advantages;     // [N] per response
    final int[] groupIds;

    Inputs(long seed, int n, int t, int groupSize) {
        this.n = n;
        this.t = t;
        Random r = new Random(seed);
        logp = new double[n][t];
        logpStart = new double[n][t];
        logpBehaviour = new double[n][t];
        logpRef = new double[n][t];
        mask = new double[n][t];
        advantages = new double[n];
        groupIds = new int[n];
        for (int i = 0; i < n; i++) {
            groupIds[i] = 100 + i / groupSize;
            advantages[i] = f(r.nextGaussian());
            int length = i == n - 1 ? 0 : 1 + r.nextInt(t);
            for (int j = 0; j < t; j++) {
                logpBehaviour[i][j] = f(-0.05 - 3 * r.nextDouble());
                logpStart[i][j] = f(logpBehaviour[i][j] + 0.4 * r.nextGaussian());
                logp[i][j] = f(logpStart[i][j] + 0.3 * r.nextGaussian());
                logpRef[i][j] = f(logpStart[i][j] + 0.3 * r.nextGaussian());
                mask[i][j] = j < length ? 1 : 0;
            }
        }
    }

    /** Per-token advantages [N][T] broadcast from [N]. */
    double[][] tokenAdvantages() {
        double[][] a = new double[n][t];
        for (int i = 0; i < n; i++) java.util.Arrays.fill(a[i], advantages[i]);
        return a;
    }

    static double f(double x) {
        return (float) x;
    }

    /** libtorch-owned fp32 copy of a [N][T] array (engine notes: never keep Java-backed arrays in a graph). */
    static NDArray array(NDManager m, double[][] x) {
        int n = x.length, t = x[0].length;
        float[] flat = new float[n * t];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) flat[i * t + j] = (float) x[i][j];
        try (NDArray javaBacked = m.create(flat, new Shape(n, t))) {
            return javaBacked.duplicate();
        }
    }

    static NDArray array(NDManager m, double[] x) {
        float[] flat = new float[x.length];
        for (int i = 0; i < x.length; i++) flat[i] = (float) x[i];
        try (NDArray javaBacked = m.create(flat)) {
            return javaBacked.duplicate();
        }
    }

    /** The DJL batch; {@code logp} is a leaf that requires gradient. */
    PolicyBatch batch(NDManager m, boolean withRef) {
        NDArray l = array(m, logp);
        l.setRequiresGradient(true);
        PolicyBatch b = PolicyBatch.of(l, array(m, logpStart), array(m, logpBehaviour), array(m, advantages),
                array(m, mask), groupIds);
        return withRef ? b.withReference(array(m, logpRef)) : b;
    }
}
