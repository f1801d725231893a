package dev.vaco.server.batch;

/**
 * One finished completion.
 *
 * @param index        which of the request's n samples
 * @param tokenIds     [C] every sampled token, including the eos or stop token that ended it
 * @param logprobs     [C] behaviour log-prob of each token (see {@link dev.vaco.server.sampling.Sampler})
 * @param versions     [C] policy version whose logits each token was sampled from
 * @param text         the decoded completion, special tokens skipped, cut before a matched stop string
 * @param finishReason "stop" (eos, stop token or stop string), "length" (max_tokens) or "abort" (server shut down)
 * @param topIds       [C][k] alternatives per token when top_logprobs = k > 0, else null
 * @param topLogprobs  [C][k]
 */
public record Sample(int index, int[] tokenIds, float[] logprobs, long[] versions, String text, String finishReason,
                     int[][] topIds, float[][] topLogprobs) {}
