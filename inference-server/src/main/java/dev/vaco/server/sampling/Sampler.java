package dev.vaco.server.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Turns one row of logits into a token and its behaviour log-prob.
 *
 * <p>The log-prob reported is that of the distribution actually sampled from <b>after temperature and before
 * top-k / top-p truncation</b>: {@code log_softmax(logits / T)[token]}. The trainer recomputes exactly this
 * quantity (its log-softmax at the same temperature), so that importance ratios compare like with like; truncation
 * only changes which tokens can be drawn. At temperature 0 (greedy) the token is the argmax and the reported
 * log-prob is {@code log_softmax(logits)[token]} (temperature 1), the only informative choice.
 *
 * <p>Not thread-safe: one per decode loop. Each sequence carries its own {@link SplittableRandom}, so a sequence's
 * draws do not depend on which other sequences share the batch.
 */
public final class Sampler {
    /** One sampled token. {@code topIds}/{@code topLogprobs} hold the requested alternatives, most likely first. */
    public record Sampled(int token, float logprob, int[] topIds, float[] topLogprobs) {}

    private float[] scratch = new float[0];
    private Integer[] order = new Integer[0];

    public Sampled sample(float[] logits, SamplingParams p, SplittableRandom rng) {
        int v = logits.length;
        if (scratch.length < v) scratch = new float[v];
        double t = p.isGreedy() ? 1.0 : p.temperature();
        // One pass of exp over the vocabulary (it dominates on 150k-token vocabularies): scratch holds the
        // unnormalised probabilities exp(logit / t - max), the normaliser is their sum, kept in double.
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[i]);
        double m = max / t, sum = 0;
        for (int i = 0; i < v; i++) {
            float e = (float) Math.exp(logits[i] / t - m);
            scratch[i] = e;
            sum += e;
        }
        double lse = m + Math.log(sum);
        int token = p.isGreedy() ? argmax(logits) : draw(scratch, sum, v, p, rng);
        int k = p.topLogprobs();
        int[] topIds = new int[k];
        float[] topLp = new float[k];
        if (k > 0) {
            topK(logits, v, k, topIds, topLp);
            for (int j = 0; j < k; j++) if (topIds[j] >= 0) topLp[j] = (float) (logits[topIds[j]] / t - lse);
        }
        return new Sampled(token, (float) (logits[token] / t - lse), topIds, topLp);
    }

    /** First index of the largest logit: ties go to the lowest id, as torch.argmax does. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** @param w [V] unnormalised probabilities, {@code sum} their total */
    private int draw(float[] w, double sum, int v, SamplingParams p, SplittableRandom rng) {
        double u = rng.nextDouble();
        if (p.topK() == 0 && p.topP() >= 1.0) {
            // full distribution: inverse CDF in id order
            double target = u * sum, c = 0;
            for (int i = 0; i < v; i++) {
                c += w[i];
                if (target < c) return i;
            }
            return lastPositive(w, v);
        }
        // truncated: sort by probability, keep top-k then the smallest prefix reaching top-p, renormalise
        if (order.length < v) order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, 0, v, (a, b) -> Float.compare(w[b], w[a]) != 0 ? Float.compare(w[b], w[a]) : a - b);
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double mass = 0, goal = p.topP() * sum;
        int cut = 0;
        while (cut < keep) {
            mass += w[order[cut]];
            cut++;
            if (mass >= goal) break;
        }
        double target = u * mass, c = 0;
        for (int j = 0; j < cut; j++) {
            c += w[order[j]];
            if (target < c) return order[j];
        }
        return order[cut - 1];
    }

    private static int lastPositive(float[] w, int v) {
        for (int i = v - 1; i >= 0; i--) if (w[i] > 0) return i;
        return v - 1;
    }

    private static void topK(float[] scores, int v, int k, int[] ids, float[] vals) {
        Arrays.fill(ids, -1);
        Arrays.fill(vals, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < v; i++) {
            float x = scores[i];
            if (x <= vals[k - 1]) continue;
            int j = k - 1;
            while (j > 0 && vals[j - 1] < x) { vals[j] = vals[j - 1]; ids[j] = ids[j - 1]; j--; }
            vals[j] = x;
            ids[j] = i;
        }
    }
}
