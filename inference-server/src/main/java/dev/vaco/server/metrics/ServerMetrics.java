package dev.vaco.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The server's counters and gauges, exposed by Micrometer's Prometheus registry ({@link #registry}, rendered by
 * {@code GET /metrics}; Vert.x's HTTP meters and the JVM's are bound to the same registry by {@code Server}).
 *
 * <p>The decode thread and the event loops write plain lock-free adders (a token costs one {@code LongAdder}
 * increment, as before); the registry reads them at scrape time through function counters and gauges. Micrometer
 * names {@code vaco.requests} become {@code vaco_requests_total} (counters) and {@code vaco_queue_depth} (gauges):
 * the names the hand-written exposition had, so dashboards and scrapers keep working.
 */
public final class ServerMetrics {
    /** Histogram bucket upper bounds for time to first token, seconds (the hand-written exposition's). */
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
    private final long startNanos = System.nanoTime();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;

    public ServerMetrics() {
        gauge("vaco.queue.depth", "Requests waiting for a batch slot.", queueDepth, AtomicLong::get);
        gauge("vaco.running.batch.size", "Sequences in the running decode batch.", runningRows, AtomicLong::get);
        gauge("vaco.policy.version", "Policy version of the live weights.", policyVersion, AtomicLong::get);
        counter("vaco.requests", "Generation requests accepted.", requests);
        counter("vaco.requests.rejected", "Requests refused with 429 (queue full).", rejected429);
        counter("vaco.bad.requests", "Requests refused with 4xx for bad input.", badRequests);
        counter("vaco.unauthorized.requests", "/v1 requests refused with 401 (missing or wrong API key).", unauthorized);
        counter("vaco.prompt.tokens", "Prompt tokens prefilled.", promptTokens);
        counter("vaco.generation.tokens", "Tokens sampled.", generatedTokens);
        gauge("vaco.generation.tokens.per.second", "Tokens sampled per second since start.", this,
                m -> m.generatedTokens.sum() / Math.max((System.nanoTime() - m.startNanos) / 1e9, 1e-9));
        counter("vaco.decode.steps", "Batched decode steps.", decodeSteps);
        FunctionCounter.builder("vaco.decode.seconds", decodeSeconds, DoubleAdder::sum)
                .description("Time spent in decode steps.").register(registry);
        counter("vaco.weight.updates", "Weight pushes applied.", weightUpdates);
        counter("vaco.weight.updates.rejected", "Weight pushes refused (bad auth, bad body, bad shapes).", weightUpdatesRejected);
        counter("vaco.weight.rollbacks", "Rollbacks to an older resident version.", weightRollbacks);
        counter("vaco.weight.staged", "Weight pushes staged: resident and scoreable, not live.", weightStaged);
        counter("vaco.weight.activations", "Staged versions made live.", weightActivations);
        counter("vaco.weight.drops", "Staged versions discarded before sampling a token.", weightDrops);
        gauge("vaco.staged.versions", "Versions staged now.", stagedVersions, AtomicLong::get);
        FunctionCounter.builder("vaco.weight.update.seconds", weightUpdateSeconds, DoubleAdder::sum)
                .description("Time from upload received to new session live.").register(registry);
        Duration[] slo = new Duration[TTFT_BUCKETS.length];
        for (int i = 0; i < slo.length; i++) slo[i] = Duration.ofNanos(Math.round(TTFT_BUCKETS[i] * 1e9));
        ttft = Timer.builder("vaco.time.to.first.token").description("Time from request to its first sampled token.")
                .serviceLevelObjectives(slo).register(registry);
    }

    /** The registry {@code /metrics} renders; Vert.x's HTTP and JVM meters are bound to it as well. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public void tokenSampled(long version) {
        generatedTokens.increment();
        tokensByVersion.computeIfAbsent(version, this::versionCounter).increment();
    }

    /** A version's first sampled token registers its labelled counter (once; the map keeps it). */
    private LongAdder versionCounter(long version) {
        LongAdder a = new LongAdder();
        FunctionCounter.builder("vaco.generation.tokens.by.version", a, LongAdder::sum)
                .description("Tokens sampled, by the policy version that sampled them.")
                .tag("version", Long.toString(version)).register(registry);
        return a;
    }

    public void timeToFirstToken(double seconds) {
        ttft.record(Math.round(seconds * 1e9), TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition (format 0.0.4) of every meter in {@link #registry}. */
    public String render() {
        return registry.scrape();
    }

    private void counter(String name, String help, LongAdder a) {
        FunctionCounter.builder(name, a, LongAdder::sum).description(help).register(registry);
    }

    private <T> void gauge(String name, String help, T source, ToDoubleFunction<T> f) {
        Gauge.builder(name, source, f).description(help).strongReference(true).register(registry);
    }
}
