package dev.vaco.server.batch;

import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.sampling.Sampler;

/**
 * Log-probs of given completion tokens (/v1/score, and the trainer's canary after a weight push): what the sampler
 * would have reported had it drawn them. One full forward pass over prompt + completion, no KV cache, so a score
 * never disturbs the running batches; the log-softmax is {@link Sampler#logprob}'s, so the two agree to the bit on
 * equal logits.
 *
 * <p>Decode thread only (the session and the sampler's scratch are not shared).
 */
final class Scorer {
    private final Sampler sampler = new Sampler();

    /**
     * @param prompt     [P], at least one token
     * @param completion [C]
     * @return [C]: {@code log_softmax(logits / temperature)} at each completion token, given everything before it
     */
    float[] score(OrtPolicy policy, int[] prompt, int[] completion, double temperature) {
        int[] all = new int[prompt.length + completion.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(completion, 0, all, prompt.length, completion.length);
        float[][] logits = policy.logits(all); // [P+C][V]: row i predicts token i + 1
        float[] out = new float[completion.length];
        for (int i = 0; i < completion.length; i++) {
            out[i] = sampler.logprob(logits[prompt.length - 1 + i], temperature, completion[i]);
        }
        return out;
    }
}
