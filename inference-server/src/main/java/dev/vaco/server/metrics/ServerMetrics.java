package dev.vaco.server.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters and gauges, rendered in the Prometheus text format (version 0.0.4). Written by the decode
 * thread and the event loops, read by {@code GET /metrics}; everything is lock-free.
 */
public final class ServerMetrics {
    /** Histogram bucket upper bounds for time to first token, seconds. */
    private static final double[] TTFT_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    public final AtomicLong queueDepth = new AtomicLong();         // requests waiting for a slot
    public final AtomicLong runningRows = new AtomicLong();        // sequences in the running batch
    public final LongAdder requests = new LongAdder();
    public final LongAdder rejected429 = new LongAdder();
    public final LongAdder badRequests = new LongAdder();
    /** /v1 requests refused with 401 for a missing or wrong API key ({@code --api-key}). */
    public final LongAdder unauthorized = new LongAdder();
    public final LongAdder promptTokens = new LongAdder();
    public final LongAdder generatedTokens = new LongAdder();
    public final LongAdder decodeSteps = new LongAdder();
    public final DoubleAdder decodeSeconds = new DoubleAdder();
    public final LongAdder weightUpdates = new LongAdder();
    public final LongAdder weightUpdatesRejected = new LongAdder();
    public final LongAdder weightRollbacks = new LongAdder();
    public final LongAdder weightStaged = new LongAdder();       // pushes staged (resident, not live)
    public final LongAdder weightActivations = new LongAdder();  // staged versions made live
    public final LongAdder weightDrops = new LongAdder();        // staged versions discarded without sampling
    public final AtomicLong stagedVersions = new AtomicLong();
    public final DoubleAdder weightUpdateSeconds = new DoubleAdder();
    public final AtomicLong policyVersion = new AtomicLong();
    private final Map<Long, LongAdder> tokensByVersion = new ConcurrentHashMap<>();
    private final LongAdder[] ttftBuckets = new LongAdder[TTFT_BUCKETS.length];
    private final LongAdder ttftCount = new LongAdder();
    private final DoubleAdder ttftSum = new DoubleAdder();
    private final long startNanos = System.nanoTime();

    public ServerMetrics() {
        for (int i = 0; i < ttftBuckets.length; i++) ttftBuckets[i] = new LongAdder();
    }

    public void tokenSampled(long version) {
        generatedTokens.increment();
        tokensByVersion.computeIfAbsent(version, v -> new LongAdder()).increment();
    }

    public void timeToFirstToken(double seconds) {
        ttftCount.increment();
        ttftSum.add(seconds);
        for (int i = 0; i < TTFT_BUCKETS.length; i++) if (seconds <= TTFT_BUCKETS[i]) ttftBuckets[i].increment();
    }

    public String render() {
        StringBuilder s = new StringBuilder(2048);
        gauge(s, "vaco_queue_depth", "Requests waiting for a batch slot.", queueDepth.get());
        gauge(s, "vaco_running_batch_size", "Sequences in the running decode batch.", runningRows.get());
        gauge(s, "vaco_policy_version", "Policy version of the live weights.", policyVersion.get());
        counter(s, "vaco_requests_total", "Generation requests accepted.", requests.sum());
        counter(s, "vaco_requests_rejected_total", "Requests refused with 429 (queue full).", rejected429.sum());
        counter(s, "vaco_bad_requests_total", "Requests refused with 4xx for bad input.", badRequests.sum());
        counter(s, "vaco_unauthorized_requests_total", "/v1 requests refused with 401 (missing or wrong API key).", unauthorized.sum());
        counter(s, "vaco_prompt_tokens_total", "Prompt tokens prefilled.", promptTokens.sum());
        counter(s, "vaco_generation_tokens_total", "Tokens sampled.", generatedTokens.sum());
        double up = (System.nanoTime() - startNanos) / 1e9;
        gauge(s, "vaco_generation_tokens_per_second", "Tokens sampled per second since start.", generatedTokens.sum() / Math.max(up, 1e-9));
        counter(s, "vaco_decode_steps_total", "Batched decode steps.", decodeSteps.sum());
        counter(s, "vaco_decode_seconds_total", "Time spent in decode steps.", decodeSeconds.sum());
        s.append("# HELP vaco_generation_tokens_by_version_total Tokens sampled, by the policy version that sampled them.\n");
        s.append("# TYPE vaco_generation_tokens_by_version_total counter\n");
        tokensByVersion.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
                s.append("vaco_generation_tokens_by_version_total{version=\"").append(e.getKey()).append("\"} ")
                        .append(e.getValue().sum()).append('\n'));
        counter(s, "vaco_weight_updates_total", "Weight pushes applied.", weightUpdates.sum());
        counter(s, "vaco_weight_updates_rejected_total", "Weight pushes refused (bad auth, bad body, bad shapes).", weightUpdatesRejected.sum());
        counter(s, "vaco_weight_rollbacks_total", "Rollbacks to an older resident version.", weightRollbacks.sum());
        counter(s, "vaco_weight_staged_total", "Weight pushes staged: resident and scoreable, not live.", weightStaged.sum());
        counter(s, "vaco_weight_activations_total", "Staged versions made live.", weightActivations.sum());
        counter(s, "vaco_weight_drops_total", "Staged versions discarded before sampling a token.", weightDrops.sum());
        gauge(s, "vaco_staged_versions", "Versions staged now.", stagedVersions.get());
        counter(s, "vaco_weight_update_seconds_total", "Time from upload received to new session live.", weightUpdateSeconds.sum());
        s.append("# HELP vaco_time_to_first_token_seconds Time from request to its first sampled token.\n");
        s.append("# TYPE vaco_time_to_first_token_seconds histogram\n");
        for (int i = 0; i < TTFT_BUCKETS.length; i++) {
            s.append("vaco_time_to_first_token_seconds_bucket{le=\"").append(TTFT_BUCKETS[i]).append("\"} ")
                    .append(ttftBuckets[i].sum()).append('\n');
        }
        s.append("vaco_time_to_first_token_seconds_bucket{le=\"+Inf\"} ").append(ttftCount.sum()).append('\n');
        s.append("vaco_time_to_first_token_seconds_sum ").append(ttftSum.sum()).append('\n');
        s.append("vaco_time_to_first_token_seconds_count ").append(ttftCount.sum()).append('\n');
        return s.toString();
    }

    private static void gauge(StringBuilder s, String name, String help, double v) {
        s.append("# HELP ").append(name).append(' ').append(help).append('\n');
        s.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(fmt(v)).append('\n');
    }

    private static void counter(StringBuilder s, String name, String help, double v) {
        s.append("# HELP ").append(name).append(' ').append(help).append('\n');
        s.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(fmt(v)).append('\n');
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
