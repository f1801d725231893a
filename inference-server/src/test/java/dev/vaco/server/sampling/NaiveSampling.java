package dev.vaco.server.sampling;

/** Plain versions of the sampler's work: the oracle of its tests and the baseline of {@code SamplerCost}. */
public final class NaiveSampling {
    private NaiveSampling() {}

    /** A token and its log-prob under log_softmax(logits / t). */
    public record Draw(int token, double logprob) {}

    /**
     * The oracle of untruncated sampling at temperature t > 0, with {@code Math.exp} in double: inverse CDF in id order
     * with the draw {@code u}.
     */
    public static Draw full(float[] logits, double t, double u) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float x : logits) max = Math.max(max, x / t);
        double[] w = new double[logits.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = Math.exp(logits[i] / t - max);
            sum += w[i];
        }
        int token = w.length - 1;
        double c = 0;
        for (int i = 0; i < w.length; i++) {
            c += w[i];
            if (u * sum < c) {
                token = i;
                break;
            }
        }
        return new Draw(token, logits[token] / t - max - Math.log(sum));
    }

    /**
     * The oracle of truncated sampling: every id sorted by probability (ties: lower id first), top-k, then the
     * smallest prefix reaching top_p of the whole mass, inverse CDF with the draw {@code u}.
     */
    public static int truncated(float[] logits, double t, int topK, double topP, double u) {
        int v = logits.length;
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double m = max / t, sum = 0;
        float[] w = new float[v];
        for (int i = 0; i < v; i++) {
            w[i] = (float) Math.exp(logits[i] / t - m);
            sum += w[i];
        }
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> w[a] != w[b] ? Float.compare(w[b], w[a]) : a - b);
        int keep = topK > 0 ? Math.min(topK, v) : v, cut = 0;
        double mass = 0;
        while (cut < keep) {
            mass += w[order[cut++]];
            if (mass >= topP * sum) break;
        }
        double c = 0;
        for (int j = 0; j < cut; j++) {
            c += w[order[j]];
            if (u * mass < c) return order[j];
        }
        return order[cut - 1];
    }
}
