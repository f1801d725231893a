package dev.vaco.server.batch;

import dev.vaco.model.Tokenizer;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.sampling.Sampler;
import dev.vaco.server.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Rows sharing one KV cache and one policy version, and what happens to them: new requests' rows are prefilled, every
 * row advances one token per {@link #step}, and a finished row leaves at once (the last row moves into its slot, so
 * rows stay contiguous in the cache). Which requests join and when is {@link GenerationEngine}'s decision.
 *
 * <p>Shapes: B active rows ({@code rows.get(i)} lives in cache slot i), V vocabulary. Decode thread only.
 */
final class Batch {
    final Long pinnedVersion; // null: the live batch
    final KvCache cache;      // [Bmax, KVH, Cap, hd] per layer
    final List<Row> rows = new ArrayList<>();
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds; // tokenizer eos + generation_config.json eos_token_id
    private final RowSampler sampler;
    private final ServerMetrics metrics;

    Batch(Long pinnedVersion, KvCache cache, Tokenizer tokenizer, Set<Integer> eosIds, RowSampler sampler,
          ServerMetrics metrics) {
        this.pinnedVersion = pinnedVersion;
        this.cache = cache;
        this.tokenizer = tokenizer;
        this.eosIds = eosIds;
        this.sampler = sampler;
        this.metrics = metrics;
    }

    /**
     * Prefills the prompts of {@code as} as new rows in one pass on {@code r}'s session, then copies each prompt's row
     * for its other n-1 samples and samples everyone's first token. Rows are appended in slot order: first one row per
     * request (the prefilled ones), then the copies.
     */
    void start(List<Active> as, PolicyVersions.Resident r) {
        int first = cache.active();
        int[][] prompts = new int[as.size()][];
        for (int i = 0; i < prompts.length; i++) prompts[i] = as.get(i).request.promptIds();
        float[][] logits = r.policy.prefillNew(cache, prompts); // [requests][V] after each prompt's last token
        long now = System.nanoTime();
        List<Row> placed = new ArrayList<>();
        List<float[]> rowLogits = new ArrayList<>();
        for (int i = 0; i < as.size(); i++) {
            Active a = as.get(i);
            a.samples = new Sample[a.request.params().n()];
            a.remaining = a.request.params().n();
            Row row = new Row(a, 0, new SplittableRandom(mix(a.seed, 0)), tokenizer);
            rows.add(row);
            placed.add(row);
            rowLogits.add(logits[i]);
            metrics.promptTokens.add(prompts[i].length);
        }
        for (int i = 0; i < as.size(); i++) {
            Active a = as.get(i);
            for (int s = 1; s < a.request.params().n(); s++) {
                cache.copyRow(first + i, cache.active()); // n samples share the prompt's prefill
                Row row = new Row(a, s, new SplittableRandom(mix(a.seed, s)), tokenizer);
                rows.add(row);
                placed.add(row);
                rowLogits.add(logits[i]);
            }
            if (pinnedVersion != null) r.pinnedRows += a.request.params().n();
            a.ttft = (now - a.submitted) / 1e9;
            metrics.timeToFirstToken(a.ttft);
        }
        Sampler.Sampled[] drawn = sampler.draw(placed, rowLogits.toArray(new float[0][]));
        for (int i = 0; i < placed.size(); i++) accept(placed.get(i), drawn[i], r.version);
        removeFinished(r);
    }

    /** Per-sample stream: depends on (seed, index) only, never on what else shares the batch. */
    private static long mix(long seed, int index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** One decode step of every row (there is at least one) on {@code r}'s session: each row's next token. */
    void step(PolicyVersions.Resident r) {
        int n = rows.size();
        int[] tokens = new int[n]; // [B] the last sampled token of each row, fed back
        for (int i = 0; i < n; i++) tokens[i] = rows.get(i).lastToken;
        long t0 = System.nanoTime();
        float[][] logits = r.policy.decode(cache, tokens); // [B][V]
        metrics.decodeSteps.increment();
        metrics.decodeSeconds.add((System.nanoTime() - t0) / 1e9);
        Sampler.Sampled[] drawn = sampler.draw(rows, logits);
        for (int i = 0; i < n; i++) accept(rows.get(i), drawn[i], r.version);
        removeFinished(r);
    }

    /** Records the row's sampled token, streams its text, and decides whether the row is done. */
    private void accept(Row row, Sampler.Sampled s, long version) {
        SamplingParams sp = row.owner.request.params();
        row.add(s, version);
        metrics.tokenSampled(version);
        int t = s.token();
        String reason = null;
        if (!sp.ignoreEos() && eosIds.contains(t)) reason = "stop";
        else if (sp.stopTokenIds().contains(t)) reason = "stop";
        if (row.text.everyToken()) {
            if (row.text.update(row.tokens(), reason == null)) reason = "stop";
            if (reason == null && row.size() >= sp.maxTokens()) reason = "length";
            TokenListener listener = row.owner.listener;
            if (listener != null) {
                listener.onToken(row.index, t, s.logprob(), version, s.topIds(), s.topLogprobs(), row.text.delta(reason != null));
            }
            if (reason != null) row.text.finish();
        } else if (reason == null && row.size() >= sp.maxTokens()) {
            reason = "length";
        }
        // a client that went away (future cancelled) frees its rows at once
        if (reason == null && row.owner.future.isCancelled()) reason = "abort";
        if (reason != null) row.finish = reason;
    }

    /** Finished rows leave; the last row moves into each gap so that active rows stay contiguous. */
    private void removeFinished(PolicyVersions.Resident r) {
        for (int i = rows.size() - 1; i >= 0; i--) {
            Row row = rows.get(i);
            if (row.finish == null) continue;
            complete(row, row.finish);
            int moved = cache.release(i);
            Row last = rows.remove(rows.size() - 1);
            if (moved >= 0) rows.set(i, last);
            if (pinnedVersion != null) r.pinnedRows--;
        }
    }

    /** The row's sample is done: its listener hears the rest, and the last sample of a request completes it. */
    private void complete(Row row, String reason) {
        Active a = row.owner;
        String text = row.text.finalText(row.tokens());
        if (a.listener != null) a.listener.onFinish(row.index, reason, row.text.rest(text));
        a.samples[row.index] = row.toSample(text, reason);
        if (--a.remaining == 0) {
            a.future.complete(new Generation(List.of(a.samples), a.seed, a.request.promptIds().length, a.ttft,
                    (System.nanoTime() - a.submitted) / 1e9));
        }
    }

    /** An engine fault: every running request fails with {@code t}, and the batch empties. */
    void fail(Throwable t) {
        for (Row row : rows) row.owner.future.completeExceptionally(t);
        clear();
    }

    /** Shutdown past its grace: every row ends now with finish reason "abort", keeping its text so far. */
    void abort() {
        for (int i = rows.size() - 1; i >= 0; i--) complete(rows.get(i), "abort");
        clear();
    }

    private void clear() {
        rows.clear();
        cache.clear();
    }
}
