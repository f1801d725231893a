package dev.vaco.server.sampling;

import java.util.List;

/**
 * How one request samples. Validated here, so that every entry point (OpenAI routes, the RL route, the trainer's
 * client) refuses the same bad values with the same field names.
 *
 * @param n             samples of the prompt; they share its prefill
 * @param temperature   0 = greedy; otherwise logits are divided by it before softmax
 * @param topP          nucleus mass in (0, 1]; 1 = off
 * @param topK          keep the k most likely tokens; 0 = off
 * @param maxTokens     completion tokens at most (the context bound is checked by the engine)
 * @param stop          stop strings: generation ends when the decoded completion contains one; the text is cut
 *                      before it, the token ids keep every sampled token (the trainer needs them all)
 * @param stopTokenIds  extra token ids that end generation (the tokenizer's eos always does unless ignoreEos)
 * @param seed          per-request seed; sample i uses a stream derived from (seed, i), so the same seed and weights
 *                      give the same tokens whatever else is in the batch; null = a fresh seed (returned)
 * @param topLogprobs   how many alternatives to report per token (0-20)
 * @param ignoreEos     keep sampling past eos (benchmarks)
 */
public record SamplingParams(int n, double temperature, double topP, int topK, int maxTokens, List<String> stop,
                             List<Integer> stopTokenIds, Long seed, int topLogprobs, boolean ignoreEos) {
    public static final int MAX_N = 64, MAX_TOP_LOGPROBS = 20, MAX_STOPS = 16;

    public SamplingParams {
        check(n >= 1 && n <= MAX_N, "n", "must be an integer in [1, " + MAX_N + "], found " + n);
        check(Double.isFinite(temperature) && temperature >= 0 && temperature <= 100, "temperature",
                "must be a number in [0, 100], found " + temperature);
        check(Double.isFinite(topP) && topP > 0 && topP <= 1, "top_p", "must be in (0, 1], found " + topP);
        check(topK >= 0, "top_k", "must be >= 0 (0 = off), found " + topK);
        check(maxTokens >= 1, "max_tokens", "must be >= 1, found " + maxTokens);
        stop = stop == null ? List.of() : List.copyOf(stop);
        check(stop.size() <= MAX_STOPS, "stop", "at most " + MAX_STOPS + " stop strings, found " + stop.size());
        for (String s : stop) check(!s.isEmpty(), "stop", "stop strings must not be empty");
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
        for (int id : stopTokenIds) check(id >= 0, "stop_token_ids", "must be non-negative token ids, found " + id);
        check(topLogprobs >= 0 && topLogprobs <= MAX_TOP_LOGPROBS, "top_logprobs",
                "must be in [0, " + MAX_TOP_LOGPROBS + "], found " + topLogprobs);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(1, 0, 1, 0, maxTokens, List.of(), List.of(), 0L, 0, false);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(n, temperature, topP, topK, maxTokens, stop, stopTokenIds, s, topLogprobs, ignoreEos);
    }

    private static void check(boolean ok, String field, String message) {
        if (!ok) throw new InvalidRequestException(field, field + " " + message);
    }
}
