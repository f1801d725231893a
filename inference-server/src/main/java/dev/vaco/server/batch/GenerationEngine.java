package dev.vaco.server.batch;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.server.engine.AdapterInputs;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.SamplingParams;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Continuous batching over ONNX Runtime: one decode thread owns the sessions and the KV caches; requests reach it
 * through an inbox and get their results back as futures.
 *
 * <p>Each loop turn: run queued commands (weight swaps, scoring), admit waiting requests into free rows (prefill the
 * prompt once, copy its KV row for the other n-1 samples), then one decode step per non-empty batch. A finished row
 * leaves at once (the last row moves into its slot), so a new request joins at the next step.
 *
 * <p>Versions: unpinned rows share the <em>live</em> batch, which always runs the newest weights; a swap happens
 * between two decode steps, keeps every KV cache (computed by older weights; the per-token version tags say so) and
 * tags later tokens with the new version. A request pinned to an older resident version runs in a batch of its own
 * with that version's session. The last {@code keepVersions} versions stay resident. A version may also be
 * <em>staged</em> ({@link #stage}): resident and scoreable, sampling nothing until {@link #activate} (or discarded by
 * {@link #drop}), so that a push is checked before any token comes from it.
 *
 * <p>This class is the scheduler: the inbox, admission and the loop. What it schedules lives elsewhere: a
 * {@link Batch} runs its rows (prefill, decode step, finished rows), {@link PolicyVersions} keeps the resident
 * versions, {@link KvBudget} sizes the caches, {@link Scorer} answers {@link #score}, {@link TextStream} turns a row's
 * tokens into streamed text, {@link RowSampler} draws the tokens.
 *
 * <p>Shapes: B active rows of a batch, V vocabulary, P prompt tokens, C completion tokens.
 */
public final class GenerationEngine implements AutoCloseable {

    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final ServerMetrics metrics;
    private final EngineOptions options;
    private final Set<Integer> eosIds; // tokenizer eos + generation_config.json eos_token_id
    private final KvBudget kv;
    private final PolicyVersions versions;
    private final LoraAdapters adapters;

    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>(); // Active or Runnable
    private final AtomicInteger queued = new AtomicInteger();
    private final SplittableRandom seeds = new SplittableRandom(); // seeds of unseeded requests (nextSeed)
    private final Thread thread;
    private volatile boolean accepting = true;
    private volatile boolean stopping;
    private volatile boolean abortAll;

    // ---- decode-thread state
    private final ArrayDeque<Active> waiting = new ArrayDeque<>();
    private final Batch live;
    private final Map<Long, Batch> pinned = new HashMap<>();
    private final RowSampler sampler;
    private final Scorer scorer = new Scorer();

    public GenerationEngine(ModelConfig config, Weights weights, long version, Tokenizer tokenizer, ServerMetrics metrics,
                            EngineOptions options) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.options = options;
        Set<Integer> eos = new LinkedHashSet<>(tokenizer.eosIds());
        if (eos.isEmpty() && config.eosTokenId() >= 0) eos.add(config.eosTokenId());
        this.eosIds = Set.copyOf(eos);
        this.kv = KvBudget.of(config, options);
        // the KV cache before the session: a cache that cannot be allocated must not leave a native session behind
        KvCache liveCache = kv.liveCache(config);
        OrtPolicy first = OrtPolicy.create(config, weights, options.policy()); // with LoRA inputs: the shared base
        this.adapters = new LoraAdapters(config, first.loraRank() > 0 ? first : null, version);
        this.versions = new PolicyVersions(version, first.loraRank() == 0 ? first
                : first.withAdapter(AdapterInputs.none(config, first.loraRank())), options.keepVersions(), metrics);
        this.sampler = new RowSampler(config.vocabSize(), options.policy().intraOpThreads());
        this.live = newBatch(null, liveCache);
        this.thread = new Thread(this::loop, "vaco-decode");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public ModelConfig config() { return config; }

    public Tokenizer tokenizer() { return tokenizer; }

    public long liveVersion() { return versions.live(); }

    public List<Long> residentVersions() { return versions.versions(); }

    /** Versions pushed with staging and not yet activated or dropped: scoreable when pinned, never sampled from. */
    public List<Long> stagedVersions() { return versions.stagedVersions(); }

    /** The latest versions dropped before going live, or rolled back. */
    public List<Long> droppedVersions() { return versions.droppedVersions(); }

    /** Rows (concurrent sequences) of the live batch and of each pinned version's batch, as the KV budget allows. */
    public int liveRows() { return kv.liveRows(); }

    /** LoRA: the rank of the sessions' adapter inputs and the named adapters. */
    public LoraAdapters lora() { return adapters; }
    /** Weight quantization of every session ({@code --quantization}); log-probs are those of the quantized policy. */
    public dev.vaco.server.engine.Quantization quantization() { return options.policy().graph().quantization(); }

    public int pinnedRows() { return kv.pinnedRows(); }

    /** Positions a request may fill (prompt + completion): --max-model-len, at most the model's. */
    public int contextLength() { return kv.contextLength(); }

    // ------------------------------------------------------------------ client side (any thread)

    /**
     * Queues a request. Validation that depends on the model (context length, token ids, pinned version) happens
     * here, so that a bad request fails before it waits.
     *
     * @throws InvalidRequestException a field is out of range for this model
     * @throws QueueFullException      too many requests are waiting
     */
    public CompletableFuture<Generation> submit(GenerationRequest request, TokenListener listener) {
        if (!accepting) throw new IllegalStateException("the server is shutting down");
        RequestCheck.check(request, config, kv, versions, adapters);
        if (queued.incrementAndGet() > options.queueCapacity()) {
            queued.decrementAndGet();
            metrics.rejected429.increment();
            throw new QueueFullException("request queue is full (" + options.queueCapacity() + " waiting)");
        }
        metrics.queueDepth.set(queued.get());
        SamplingParams sp = request.params();
        long seed = sp.seed() != null ? sp.seed() : nextSeed();
        Active a = new Active(request, listener, seed);
        metrics.requests.increment();
        inbox.add(a);
        return a.future;
    }

    private synchronized long nextSeed() {
        return seeds.nextLong() & Long.MAX_VALUE;
    }

    /**
     * Makes {@code weights} the live policy as {@code version}. The ORT session is built on the calling thread (never
     * the decode thread, which keeps generating meanwhile); the swap itself happens between two decode steps.
     *
     * @return completes with the seconds from call to swap, once the new version samples
     */
    public CompletableFuture<Double> publish(Weights weights, long version) {
        return install(() -> OrtPolicy.create(config, weights, options.policy()), version, true);
    }

    /**
     * {@link #publish} ({@code makeLive}) or {@link #stage} of the startup weights plus a LoRA adapter ({@code tensors}
     * in PEFT's names): no session is built, the version is the adapter's input tensors. Refused (400) without LoRA inputs.
     */
    public CompletableFuture<Double> installAdapter(LoraConfig lora, Map<String, Tensor> tensors, long version,
                                                    boolean makeLive) {
        return install(() -> adapters.version(lora, tensors), version, makeLive);
    }

    /**
     * Stops serving the named adapter (vLLM's {@code /v1/unload_lora_adapter}): requests for it that have not started
     * get 404, running ones finish on it.
     *
     * @return completes with false when no adapter of that name is loaded
     */
    public CompletableFuture<Boolean> unloadAdapter(String name) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        command(() -> f.complete(adapters.unload(name)), f);
        return f;
    }

    /**
     * Makes {@code weights} resident as {@code version} without making it live: requests pinned to it may be scored
     * ({@link #score}) but nothing samples from it until {@link #activate}; {@link #drop} discards it. The number is
     * spent either way (versions only increase).
     *
     * @return completes with the seconds from call to the session being resident
     */
    public CompletableFuture<Double> stage(Weights weights, long version) {
        return install(() -> OrtPolicy.create(config, weights, options.policy()), version, false);
    }

    private CompletableFuture<Double> install(Supplier<OrtPolicy> build, long version, boolean makeLive) {
        if (!makeLive && versions.stagedVersions().size() >= options.keepVersions()) { // before a session is built for nothing
            throw new InvalidRequestException(409, "version", "already " + options.keepVersions() + " staged versions "
                    + stagedVersions() + ": activate or drop one first");
        }
        long t0 = System.nanoTime();
        CompletableFuture<Double> done = new CompletableFuture<>();
        versions.claim(version, () -> {
            OrtPolicy policy = build.get();
            command(() -> {
                if (makeLive) versions.makeLive(version, policy);
                else versions.stage(version, policy);
                double s = (System.nanoTime() - t0) / 1e9;
                metrics.weightUpdates.increment();
                metrics.weightUpdateSeconds.add(s);
                done.complete(s);
            }, done);
        });
        return done;
    }

    /** Makes the staged {@code version} live from the next decode step (already live: nothing changes). */
    public CompletableFuture<Long> activate(long version) {
        return versionCommand(() -> versions.activate(version), version);
    }

    /** Discards the staged {@code version}: it never sampled a token, and its number is not reused. */
    public CompletableFuture<Long> drop(long version) {
        return versionCommand(() -> versions.drop(version), version);
    }

    /** Runs a change of the resident set on the decode thread; completes with {@code version} once done. */
    private CompletableFuture<Long> versionCommand(Runnable change, long version) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        command(() -> {
            change.run();
            done.complete(version);
        }, done);
        return done;
    }

    /**
     * Makes the resident {@code version} live again and drops every newer version (a push that failed its canary
     * check). Later pushes must still use numbers above the highest ever published, so no tag is ever reused.
     */
    public CompletableFuture<Long> rollback(long version) {
        if (!versions.isResident(version)) {
            return CompletableFuture.failedFuture(new InvalidRequestException("version", "version " + version
                    + " is not resident; resident: " + residentVersions()));
        }
        return versionCommand(() -> {
            versions.rollBackTo(version);
            metrics.weightRollbacks.increment();
        }, version);
    }

    /**
     * Log-probs of {@code completion} after {@code prompt} at {@code temperature} under a resident version (null =
     * live): what the sampler would have reported for these tokens ({@link Scorer}). Used to check that the server
     * and the trainer agree after a weight push (the canary). With {@code adapter}: under that named adapter; {@code fp32}: the version's fp32 session.
     *
     * @return [C]
     */
    public CompletableFuture<float[]> score(int[] prompt, int[] completion, double temperature, Long version) {
        return score(prompt, completion, temperature, version, null, false);
    }

    public CompletableFuture<float[]> score(int[] prompt, int[] completion, double temperature, Long version,
                                            String adapter, boolean fp32) {
        CompletableFuture<float[]> f = new CompletableFuture<>();
        if (prompt.length + completion.length > contextLength()) {
            f.completeExceptionally(new InvalidRequestException("prompt", "prompt + completion exceed the context of "
                    + contextLength() + " tokens"));
            return f;
        }
        command(() -> {
            PolicyVersions.Resident r = adapter != null ? adapters.resident(adapter)
                    : versions.get(version == null ? versions.live() : version);
            if (r == null && adapter != null) throw RequestCheck.noSuchModel(adapter);
            if (r == null) throw new InvalidRequestException("policy_version", "policy_version " + version + " is not resident");
            f.complete(scorer.score(fp32 ? r.policy.fullPrecision() : r.policy, prompt, completion, temperature));
        }, f);
        return f;
    }

    private void command(Runnable r, CompletableFuture<?> onError) {
        inbox.add((Runnable) () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                onError.completeExceptionally(e);
            }
        });
    }

    /** Stops accepting, lets running and queued requests finish for up to {@code grace}, then aborts the rest. */
    public void shutdown(Duration grace) {
        accepting = false;
        stopping = true;
        inbox.add((Runnable) () -> { });
        try {
            thread.join(grace.toMillis());
            if (thread.isAlive()) {
                abortAll = true;
                inbox.add((Runnable) () -> { });
                thread.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        versions.closeAll();
        adapters.closeAll();
        sampler.close();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    // ------------------------------------------------------------------ decode thread

    private void loop() {
        while (true) {
            try {
                drainInbox(idle() ? 50 : 0);
                if (abortAll) {
                    abortEverything();
                    return;
                }
                if (stopping && idle() && waiting.isEmpty()) return;
                admit();
                step(live);
                for (Iterator<Batch> it = pinned.values().iterator(); it.hasNext(); ) {
                    Batch b = it.next();
                    step(b);
                    if (b.rows.isEmpty()) { // free the batch's KV memory and maybe its evicted session
                        it.remove();
                        versions.drained(b.pinnedVersion);
                    }
                }
                adapters.stepAll(this::step);
                metrics.runningRows.set(activeRows());
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // An engine fault must not wedge the server: fail what was running and keep serving.
                failRunning(t);
            }
        }
    }

    private boolean idle() {
        return live.rows.isEmpty() && pinned.isEmpty() && waiting.isEmpty() && adapters.rows() == 0;
    }

    private int activeRows() {
        int n = live.rows.size();
        for (Batch b : pinned.values()) n += b.rows.size();
        return n + adapters.rows();
    }

    private void drainInbox(long waitMillis) throws InterruptedException {
        Object o = waitMillis > 0 ? inbox.poll(waitMillis, TimeUnit.MILLISECONDS) : inbox.poll();
        while (o != null) {
            if (o instanceof Runnable r) r.run();
            else waiting.add((Active) o);
            o = inbox.poll();
        }
    }

    /** Prompt tokens prefilled together before the next decode step: bounds the stall of running rows. */
    private static final int PREFILL_TOKENS_PER_STEP = 4096;

    /**
     * FIFO admission: the head request waits until its batch has n free rows. Every request admitted in one turn
     * into the same batch is prefilled in one batched pass ({@link OrtPolicy#prefillNew}), so that C requests
     * arriving together cost one prefill, not C serial ones, before the running rows step again.
     */
    private void admit() {
        Map<Batch, List<Active>> starting = new LinkedHashMap<>();
        Map<Batch, Integer> freeRows = new HashMap<>();
        int tokens = 0;
        while (!waiting.isEmpty() && !abortAll) {
            Active a = waiting.peek();
            Batch b = batchFor(a);
            if (b == null) continue;
            int n = a.request.params().n();
            int free = freeRows.computeIfAbsent(b, x -> x.cache.maxRows() - x.cache.active());
            if (free < n) break;
            if (tokens > 0 && tokens + a.request.promptIds().length > PREFILL_TOKENS_PER_STEP) break;
            waiting.poll();
            dequeued();
            freeRows.put(b, free - n);
            tokens += a.request.promptIds().length;
            starting.computeIfAbsent(b, x -> new ArrayList<>()).add(a);
        }
        for (var e : starting.entrySet()) {
            try {
                Batch b = e.getKey();
                b.start(e.getValue(), serving(b));
            } catch (RuntimeException ex) {
                // rows already placed are failed by failRunning; requests that never got rows are failed here
                for (Active a : e.getValue()) if (a.samples == null) a.future.completeExceptionally(ex);
                throw ex;
            }
        }
    }

    /**
     * The batch that the head request {@code a} runs in: the live one, or its pinned version's (made on first use).
     * Null when its version was evicted while it waited: then it has been dequeued and failed.
     */
    private Batch batchFor(Active a) {
        Long v = a.request.pinnedVersion();
        if (a.request.adapter() != null) {
            if (!adapters.has(a.request.adapter())) { // unloaded while the request waited
                waiting.poll();
                dequeued();
                a.future.completeExceptionally(RequestCheck.noSuchModel(a.request.adapter()));
                return null;
            }
            return adapters.batch(a.request.adapter(), () -> newBatch(null, kv.pinnedCache(config)));
        }
        if (v == null) return live;
        PolicyVersions.Resident r = versions.get(v);
        if (r == null || r.evicted) {
            waiting.poll();
            dequeued();
            a.future.completeExceptionally(new InvalidRequestException("policy_version",
                    "policy_version " + v + " was evicted before the request started; resident: " + residentVersions()));
            return null;
        }
        return pinned.computeIfAbsent(v, k -> newBatch(k, kv.pinnedCache(config)));
    }

    private Batch newBatch(Long pinnedVersion, KvCache cache) {
        return new Batch(pinnedVersion, cache, tokenizer, eosIds, sampler, metrics);
    }

    /** One decode step of {@code b}, if it has rows, on the session it runs on. */
    private void step(Batch b) {
        if (!b.rows.isEmpty()) b.step(serving(b));
    }

    private PolicyVersions.Resident serving(Batch b) {
        PolicyVersions.Resident r = adapters.servingOf(b);
        return r != null ? r : versions.serving(b.pinnedVersion);
    }

    private void dequeued() {
        metrics.queueDepth.set(queued.decrementAndGet());
    }

    private void failRunning(Throwable t) {
        for (Batch b : allBatches()) b.fail(t);
        pinned.clear();
        adapters.clearBatches();
    }

    private void abortEverything() {
        for (Batch b : allBatches()) b.abort();
        for (Active a : waiting) a.future.completeExceptionally(new IllegalStateException("the server shut down"));
        waiting.clear();
        Object o;
        while ((o = inbox.poll()) != null) {
            if (o instanceof Active a) a.future.completeExceptionally(new IllegalStateException("the server shut down"));
        }
    }

    /** The pinned batches, then the live one. */
    private List<Batch> allBatches() {
        List<Batch> all = new ArrayList<>(pinned.values());
        adapters.batches().forEach(all::add);
        all.add(live);
        return all;
    }
}
