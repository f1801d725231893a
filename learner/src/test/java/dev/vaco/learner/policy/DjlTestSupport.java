package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Small helpers shared by the DJL tests. */
final class DjlTestSupport {
    private DjlTestSupport() {}

    static NDManager manager() {
        return Engines.pytorch().newBaseManager();
    }

    /** Max |a - b| over [B][T][V] logits against the oracle, rows compared up to their own length. */
    static double maxAbsDiff(float[] flat, int t, int v, int row, double[][] expected) {
        double max = 0;
        for (int p = 0; p < expected.length; p++) {
            for (int j = 0; j < v; j++) {
                max = Math.max(max, Math.abs(flat[(row * t + p) * v + j] - expected[p][j]));
            }
        }
        return max;
    }

    static float[] floats(NDArray a) {
        return a.toFloatArray();
    }
}
