package dev.vaco.learner;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.List;

/**
 * Responses laid out for the learner. Row i is prompt_i ++ completion_i, right-padded; position t predicts token t+1,
 * so completion token j of row i sits at position {@code P_i - 1 + j}. The behaviour log-probs are placed at the
 * same positions and {@code mask} is 1 exactly there.
 *
 * <p>Shapes: N responses, T = max(P_i + C_i) - 1 positions.
 *
 * @param tokens    [N, T] int32 inputs
 * @param targets   [N, T] int32 next tokens
 * @param mask      [N, T] fp32, 1 on completion positions
 * @param behaviour [N, T] fp32 lb at completion positions, 0 elsewhere
 * @param lag       [N, T] fp32 learner version minus the token's version, at completion positions
 */
public record TrainBatch(NDArray tokens, NDArray targets, NDArray mask, NDArray behaviour, NDArray lag, int[] groupIds,
                         int completionTokens) {

    /** Arrays live in {@code m}; keep it open until backward has finished (they are read by autograd). */
    public static TrainBatch build(NDManager m, List<Rollout> rows, long learnerVersion, int padId) {
        int n = rows.size(), t = 0, total = 0;
        for (Rollout r : rows) {
            t = Math.max(t, r.prompt().length + r.length() - 1);
            total += r.length();
        }
        if (t < 1) throw new IllegalArgumentException("a batch needs at least one sequence of two tokens");
        int[] tok = new int[n * t], tgt = new int[n * t], groups = new int[n];
        float[] mask = new float[n * t], lb = new float[n * t], lag = new float[n * t];
        java.util.Arrays.fill(tok, padId);
        java.util.Arrays.fill(tgt, padId);
        for (int i = 0; i < n; i++) {
            Rollout r = rows.get(i);
            groups[i] = r.group();
            int p = r.prompt().length, c = r.length(), len = p + c;
            int[] seq = new int[len];
            System.arraycopy(r.prompt(), 0, seq, 0, p);
            System.arraycopy(r.completion(), 0, seq, p, c);
            for (int pos = 0; pos < len - 1; pos++) {
                tok[i * t + pos] = seq[pos];
                tgt[i * t + pos] = seq[pos + 1];
            }
            for (int j = 0; j < c; j++) {
                int pos = i * t + p - 1 + j;
                mask[pos] = 1f;
                lb[pos] = r.behaviour()[j];
                lag[pos] = learnerVersion - r.versions()[j];
            }
        }
        Shape s = new Shape(n, t);
        // duplicate(): libtorch-owned copies, so no Java buffer is ever read after it could be collected
        return new TrainBatch(own(m.create(tok, s)), own(m.create(tgt, s)), own(m.create(mask, s)), own(m.create(lb, s)),
                own(m.create(lag, s)), groups, total);
    }

    private static NDArray own(NDArray javaBacked) {
        NDArray copy = javaBacked.duplicate();
        javaBacked.close();
        return copy;
    }

    public int rows() {
        return (int) tokens.getShape().get(0);
    }

    /** The rows {@code idx} of the token inputs and targets (minibatches; chunked no-grad passes). */
    public NDArray[] select(long[] idx) {
        NDManager m = tokens.getManager();
        try (NDArray javaBacked = m.create(idx); NDArray index = javaBacked.duplicate()) {
            NDIndex pick = new NDIndex("{}", index);
            return new NDArray[] {tokens.get(pick), targets.get(pick)};
        }
    }
}
