package dev.vaco.server.batch;

import dev.vaco.model.Tokenizer;
import dev.vaco.server.sampling.Sampler;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One sample being generated, a row of its batch's KV cache: the tokens drawn so far with their log-probs and the
 * policy version of each, its random stream and its text. Arrays grow by doubling; the first {@code n} entries are
 * the sample's C tokens so far. Decode thread only.
 */
final class Row {
    final Active owner;
    final int index; // sample index within the request
    final SplittableRandom rng;
    final TextStream text;
    private int[] tokens = new int[16];      // [C]
    private float[] logprobs = new float[16]; // [C]
    private long[] versions = new long[16];   // [C]
    private int[][] topIds;                  // [C][top_logprobs], null when none were asked for
    private float[][] topLps;                // [C][top_logprobs]
    private int n;
    int lastToken;
    String finish; // the finish reason once the row is done, else null

    Row(Active owner, int index, SplittableRandom rng, Tokenizer tokenizer) {
        this.owner = owner;
        this.index = index;
        this.rng = rng;
        this.text = new TextStream(tokenizer, owner.request.params().stop(), owner.listener != null);
        if (owner.request.params().topLogprobs() > 0) {
            topIds = new int[16][];
            topLps = new float[16][];
        }
    }

    void add(Sampler.Sampled s, long version) {
        if (n == tokens.length) {
            int c = n * 2;
            tokens = Arrays.copyOf(tokens, c);
            logprobs = Arrays.copyOf(logprobs, c);
            versions = Arrays.copyOf(versions, c);
            if (topIds != null) {
                topIds = Arrays.copyOf(topIds, c);
                topLps = Arrays.copyOf(topLps, c);
            }
        }
        tokens[n] = s.token();
        logprobs[n] = s.logprob();
        versions[n] = version;
        if (topIds != null) {
            topIds[n] = s.topIds();
            topLps[n] = s.topLogprobs();
        }
        n++;
        lastToken = s.token();
    }

    int size() {
        return n;
    }

    int[] tokens() {
        return Arrays.copyOf(tokens, n);
    }

    Sample toSample(String text, String reason) {
        return new Sample(index, Arrays.copyOf(tokens, n), Arrays.copyOf(logprobs, n), Arrays.copyOf(versions, n), text,
                reason, topIds == null ? null : Arrays.copyOf(topIds, n), topLps == null ? null : Arrays.copyOf(topLps, n));
    }
}
