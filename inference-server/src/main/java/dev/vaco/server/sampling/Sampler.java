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

    /** [V] after {@link #logNormaliser}: the unnormalised probabilities e^(logits[i] / t - max / t). */
    private float[] scratch = new float[0];
    /** Their sum, in double, as {@link #logNormaliser} left it: what {@link #draw} scales its uniform draw by. */
    private double mass;
    private long[] keys = new long[0];

    public Sampled sample(float[] logits, SamplingParams p, SplittableRandom rng) {
        int v = logits.length;
        double t = softmaxTemperature(p.temperature());
        double lse = logNormaliser(logits, t);
        int token = p.isGreedy() ? argmax(logits) : draw(scratch, mass, v, p, rng);
        int k = p.topLogprobs();
        int[] topIds = new int[k];
        float[] topLp = new float[k];
        if (k > 0) {
            topK(logits, v, k, topIds, topLp);
            for (int j = 0; j < k; j++) if (topIds[j] >= 0) topLp[j] = logprob(logits, topIds[j], t, lse);
        }
        return new Sampled(token, logprob(logits, token, t, lse), topIds, topLp);
    }

    /**
     * {@code log_softmax(logits / T)[token]}, the log-prob {@link #sample} reports for {@code token} at this
     * temperature (0 = greedy, reported at 1), to the bit: scoring given tokens (the canary) uses the sampler's
     * arithmetic, so that it checks the weights, not two ways of rounding.
     */
    public float logprob(float[] logits, double temperature, int token) {
        double t = softmaxTemperature(temperature);
        return logprob(logits, token, t, logNormaliser(logits, t));
    }

    /** Greedy (T = 0) reports log-probs at temperature 1, the only informative choice. */
    private static double softmaxTemperature(double temperature) {
        return temperature == 0 ? 1.0 : temperature;
    }

    private static float logprob(float[] logits, int token, double t, double lse) {
        return (float) (logits[token] / t - lse);
    }

    /**
     * log sum_i e^(logits[i] / t), the log-softmax's normaliser. One pass of exp over the vocabulary (it dominates on
     * 150k-token vocabularies): {@link #scratch} gets the unnormalised probabilities e^(logit / t - max / t) and
     * {@link #mass} their sum, kept in double.
     */
    private double logNormaliser(float[] logits, double t) {
        int v = logits.length;
        if (scratch.length < v) scratch = new float[v];
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[i]);
        double m = max / t, sum = 0;
        for (int i = 0; i < v; i++) {
            float e = expToFloat(logits[i] / t - m);
            scratch[i] = e;
            sum += e;
        }
        mass = sum;
        return m + Math.log(sum);
    }

    private static final double LOG2E = 1.4426950408889634;
    /** ln 2 split so that k * LN2_HI is exact for |k| < 2^11 (Cody-Waite): r = x - k ln 2 keeps full precision. */
    private static final double LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10;

    /**
     * (float) e^x for x <= 88 in 3.6 ns. On Java 17, C2 makes a loop that rounds {@code Math.exp} to float 4x slower
     * (16 ns per id, against 4.2 ns when the result stays double; Java 25 does not: 3.7-5 ns), and that loop was 80%
     * of an untruncated sample on a 128k vocabulary (docs/bench/serving.md). e^x = 2^k e^r with k = round(x / ln 2),
     * |r| <= ln 2 / 2, and e^r by its Taylor series to r^7 (relative error < 1e-8, far below the float rounding
     * that follows). Below -110 the float result is 0 whatever the method; NaN stays NaN.
     */
    static float expToFloat(double x) {
        if (x < -110) return 0f;
        double k = Math.rint(x * LOG2E);
        double r = (x - k * LN2_HI) - k * LN2_LO;
        double p = 1 + r * (1 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720
                + r * (1.0 / 5040)))))));
        return (float) (p * Double.longBitsToDouble(((long) k + 1023) << 52));
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
        // Truncated: tokens by probability (ties: lower id first), keep top-k, then the smallest prefix reaching
        // top_p of the whole mass, renormalise. Sorting 150k ids per token cost ~10 ms, so only candidates above a
        // threshold are sorted; the threshold drops 1000-fold until they hold the top-k or the top_p mass. Every
        // token left out is less likely than every candidate, so the prefix is the one a full sort would give.
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double goal = p.topP() * sum;
        if (keys.length < v) keys = new long[v];
        int n = 0;
        for (double tau = 1e-3; ; tau *= 1e-3) { // w[i] = exp(x_i - max) <= 1, the largest is 1
            n = 0;
            double mass = 0;
            for (int i = 0; i < v; i++) {
                if (w[i] >= tau) {
                    // descending probability, then ascending id, as one ascending long (w >= 0: bits order = value order)
                    keys[n++] = ((long) (Integer.MAX_VALUE - Float.floatToRawIntBits(w[i])) << 32) | i;
                    mass += w[i];
                }
            }
            if (n >= keep || mass >= goal || tau < Float.MIN_VALUE) break;
        }
        Arrays.sort(keys, 0, n);
        double mass = 0;
        int cut = 0;
        while (cut < Math.min(keep, n)) {
            mass += w[(int) keys[cut]];
            cut++;
            if (mass >= goal) break;
        }
        double target = u * mass, c = 0;
        for (int j = 0; j < cut; j++) {
            c += w[(int) keys[j]];
            if (target < c) return (int) keys[j];
        }
        return (int) keys[cut - 1];
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
