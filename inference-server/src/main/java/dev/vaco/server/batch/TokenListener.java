package dev.vaco.server.batch;

/**
 * Receives a request's progress on the decode thread (for streaming). Implementations must not block: hand the
 * event to the HTTP connection's context and return.
 */
public interface TokenListener {
    /**
     * @param index     sample index
     * @param token     the sampled token id
     * @param logprob   its behaviour log-prob
     * @param version   policy version that sampled it
     * @param textDelta newly final text (held back while it could still be the start of a stop string or an
     *                  incomplete UTF-8 character); may be empty
     */
    void onToken(int index, int token, float logprob, long version, int[] topIds, float[] topLogprobs, String textDelta);

    /** The sample ended; {@code textDelta} is the rest of its text. */
    void onFinish(int index, String finishReason, String textDelta);
}
