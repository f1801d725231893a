package dev.vaco.server.batch;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.Sampler;
import dev.vaco.server.sampling.SamplingParams;
import dev.vaco.server.sampling.StopChecker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

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
 * with that version's session. The last {@code keepVersions} versions stay resident.
 *
 * <p>Shapes: B active rows of a batch, V vocabulary, P prompt tokens, C completion tokens.
 */
public final class GenerationEngine implements AutoCloseable {

    /**
     * @param maxRows        Bmax: rows per batch (concurrent sequences)
     * @param queueCapacity  requests waiting for rows before submit() refuses with {@link QueueFullException}
     * @param keepVersions   K: policy versions kept resident for pinned requests (>= 1, the live one included)
     * @param policy         ORT session settings
     * @param maxModelLen  context length served (prompt + completion), at most the model's max_position_embeddings;
     *                     0 = the model's. The KV cache is preallocated for rows x this many positions, so real
     *                     models (32k-128k positions) need a cap, as vLLM's --max-model-len.
     * @param kvCacheBytes memory for KV caches (vLLM's --kv-cache-memory-bytes); 0 = half of the JVM's direct-memory
     *                     limit. Half of it goes to the live batch, the other half is shared by the pinned versions'
     *                     batches (keepVersions - 1 of them at most); each batch gets as many rows, up to maxRows, as
     *                     its share holds.
     */
    public record Options(int maxRows, int queueCapacity, int keepVersions, PolicyOptions policy, int maxModelLen,
                          long kvCacheBytes) {
        public static final Options DEFAULT = new Options(64, 256, 4, PolicyOptions.DEFAULT);
        /** The command line's default cap: real models' contexts would not fit a preallocated KV cache. */
        public static final int DEFAULT_MAX_MODEL_LEN = 4096;

        public Options {
            if (maxRows < 1) throw new IllegalArgumentException("maxRows must be >= 1, found " + maxRows);
            if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be >= 1, found " + queueCapacity);
            if (keepVersions < 1) throw new IllegalArgumentException("keepVersions must be >= 1, found " + keepVersions);
            if (maxModelLen < 0 || maxModelLen == 1) {
                throw new IllegalArgumentException("--max-model-len must be >= 2 (or 0 for the model's), found " + maxModelLen);
            }
            if (kvCacheBytes < 0) throw new IllegalArgumentException("--kv-cache-memory-bytes must be >= 0, found " + kvCacheBytes);
        }

        /** The model's whole context. */
        public Options(int maxRows, int queueCapacity, int keepVersions, PolicyOptions policy) {
            this(maxRows, queueCapacity, keepVersions, policy, 0, 0);
        }

        /** The default KV budget: half of the JVM's direct-memory limit. */
        public Options(int maxRows, int queueCapacity, int keepVersions, PolicyOptions policy, int maxModelLen) {
            this(maxRows, queueCapacity, keepVersions, policy, maxModelLen, 0);
        }
    }

    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final ServerMetrics metrics;
    private final Options options;
    private final Set<Integer> eosIds; // tokenizer eos + generation_config.json eos_token_id
    private final int liveRows, pinnedRows; // rows per batch as the KV budget allows (at most options.maxRows)

    private final ConcurrentSkipListMap<Long, Resident> resident = new ConcurrentSkipListMap<>();
    private volatile long liveVersion;
    private final Object publishLock = new Object();
    private long highestPublished; // guarded by publishLock: versions only increase

    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>(); // Active or Runnable
    private final AtomicInteger queued = new AtomicInteger();
    private final Thread thread;
    private volatile boolean accepting = true;
    private volatile boolean stopping;
    private volatile boolean abortAll;

    // ---- decode-thread state
    private final ArrayDeque<Active> waiting = new ArrayDeque<>();
    private final Batch live;
    private final Map<Long, Batch> pinned = new HashMap<>();
    /**
     * Draws rows in parallel when the vocabulary is large: sampling is a pass over V per row (0.67 ms at V = 128k),
     * so at 64 rows it was ~45% of a step of a 91M model, while the ORT threads sat idle between runs (parallel:
     * +5-14% tokens/s there, docs/bench/serving.md). Each row
     * carries its own RNG, so its draw does not depend on which thread makes it; one {@link Sampler} (scratch
     * buffers) per thread.
     */
    private final ForkJoinPool samplingPool;
    private final ThreadLocal<Sampler> samplers = ThreadLocal.withInitial(Sampler::new);
    /** rows x V below which one thread samples alone (forking costs more than it saves). */
    private static final long PARALLEL_SAMPLING_WORK = 1L << 18;
    private final SplittableRandom seeds = new SplittableRandom();

    public GenerationEngine(ModelConfig config, Weights weights, long version, Tokenizer tokenizer, ServerMetrics metrics,
                            Options options) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.options = options;
        Set<Integer> eos = new LinkedHashSet<>(tokenizer.eosIds());
        if (eos.isEmpty() && config.eosTokenId() >= 0) eos.add(config.eosTokenId());
        this.eosIds = Set.copyOf(eos);
        long rowBytes = KvCache.bytesPerRow(config, contextLength());
        long budget = options.kvCacheBytes() > 0 ? options.kvCacheBytes() : maxDirectMemory() / 2;
        this.liveRows = (int) Math.min(options.maxRows(), budget / 2 / rowBytes);
        this.pinnedRows = (int) Math.min(options.maxRows(), budget / 2 / Math.max(1, options.keepVersions() - 1) / rowBytes);
        if (liveRows < 1 || pinnedRows < 1) {
            throw new IllegalArgumentException("a KV cache budget of " + budget + " bytes holds no row of " + contextLength()
                    + " positions (" + rowBytes + " bytes; half the budget for the live batch, half for up to "
                    + (options.keepVersions() - 1) + " pinned versions): lower --max-model-len or --keep-versions, or raise "
                    + "--kv-cache-memory-bytes");
        }
        // the KV cache before the session: a cache that cannot be allocated must not leave a native session behind
        this.live = new Batch(null, new KvCache(config, liveRows, contextLength()));
        resident.put(version, new Resident(version, OrtPolicy.create(config, weights, options.policy())));
        this.liveVersion = version;
        this.highestPublished = version;
        metrics.policyVersion.set(version);
        this.samplingPool = new ForkJoinPool(options.policy().intraOpThreads());
        this.thread = new Thread(this::loop, "vaco-decode");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public ModelConfig config() { return config; }

    public Tokenizer tokenizer() { return tokenizer; }

    public long liveVersion() { return liveVersion; }

    public List<Long> residentVersions() { return new ArrayList<>(resident.keySet()); }

    /** Rows (concurrent sequences) of the live batch and of each pinned version's batch, as the KV budget allows. */
    public int liveRows() { return liveRows; }

    public int pinnedRows() { return pinnedRows; }

    /** -XX:MaxDirectMemorySize, or the heap's maximum, which is the JVM's default for it. */
    static long maxDirectMemory() {
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long v = Long.parseLong(bean.getVMOption("MaxDirectMemorySize").getValue());
            if (v > 0) return v;
        } catch (RuntimeException e) {
            // not HotSpot: the heap's maximum is the documented default
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** Positions a request may fill (prompt + completion): --max-model-len, at most the model's. */
    public int contextLength() {
        int model = config.maxPositionEmbeddings();
        return options.maxModelLen() > 0 ? Math.min(options.maxModelLen(), model) : model;
    }

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
        int[] p = request.promptIds();
        SamplingParams sp = request.params();
        if (p == null || p.length == 0) throw new InvalidRequestException("prompt", "prompt must not be empty");
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0 || p[i] >= config.vocabSize()) {
                throw new InvalidRequestException("prompt", "prompt token " + i + " is " + p[i] + ", outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
        int ctx = contextLength();
        if (p.length >= ctx) {
            throw new InvalidRequestException("prompt", "prompt has " + p.length + " tokens; the context is " + ctx
                    + " tokens and at least one must be left for the completion");
        }
        if (p.length + (long) sp.maxTokens() > ctx) {
            throw new InvalidRequestException("max_tokens", "prompt (" + p.length + " tokens) + max_tokens (" + sp.maxTokens()
                    + ") exceed the context of " + ctx + " tokens; max_tokens can be at most " + (ctx - p.length));
        }
        int rows = request.pinnedVersion() != null ? pinnedRows : liveRows;
        if (sp.n() > rows) {
            throw new InvalidRequestException("n", "n must be at most " + rows + " (rows per batch"
                    + (request.pinnedVersion() != null ? " of a pinned version" : "") + "), found " + sp.n());
        }
        if (request.pinnedVersion() != null && !resident.containsKey(request.pinnedVersion())) {
            throw new InvalidRequestException("policy_version", "policy_version " + request.pinnedVersion()
                    + " is not resident; resident versions: " + residentVersions());
        }
        if (queued.incrementAndGet() > options.queueCapacity()) {
            queued.decrementAndGet();
            metrics.rejected429.increment();
            throw new QueueFullException("request queue is full (" + options.queueCapacity() + " waiting)");
        }
        metrics.queueDepth.set(queued.get());
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
        long t0 = System.nanoTime();
        synchronized (publishLock) {
            if (version <= highestPublished) {
                throw new InvalidRequestException("version", "version must be greater than the latest version "
                        + highestPublished + ", found " + version);
            }
            OrtPolicy policy = OrtPolicy.create(config, weights, options.policy());
            CompletableFuture<Double> done = new CompletableFuture<>();
            command(() -> {
                resident.put(version, new Resident(version, policy));
                liveVersion = version;
                metrics.policyVersion.set(version);
                evict();
                double s = (System.nanoTime() - t0) / 1e9;
                metrics.weightUpdates.increment();
                metrics.weightUpdateSeconds.add(s);
                done.complete(s);
            }, done);
            highestPublished = version;
            return done;
        }
    }

    /**
     * Makes the resident {@code version} live again and drops every newer version (a push that failed its canary
     * check). Later pushes must still use numbers above the highest ever published, so no tag is ever reused.
     */
    public CompletableFuture<Long> rollback(long version) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        if (!resident.containsKey(version)) {
            done.completeExceptionally(new InvalidRequestException("version", "version " + version
                    + " is not resident; resident: " + residentVersions()));
            return done;
        }
        command(() -> {
            if (!resident.containsKey(version)) throw new InvalidRequestException("version", "version " + version + " was evicted");
            for (Long newer : new ArrayList<>(resident.tailMap(version, false).keySet())) {
                Resident r = resident.remove(newer);
                r.evicted = true;
                if (r.pinnedRows == 0) r.policy.close();
                else evictedInUse.add(r);
            }
            liveVersion = version;
            metrics.policyVersion.set(version);
            metrics.weightRollbacks.increment();
            done.complete(version);
        }, done);
        return done;
    }

    /**
     * Log-probs of {@code completion} after {@code prompt} at {@code temperature} under a resident version (null =
     * live): what the sampler would have reported for these tokens. Used to check that the server and the trainer
     * agree after a weight push (the canary).
     *
     * @return [C]
     */
    public CompletableFuture<float[]> score(int[] prompt, int[] completion, double temperature, Long version) {
        CompletableFuture<float[]> f = new CompletableFuture<>();
        if (prompt.length + completion.length > contextLength()) {
            f.completeExceptionally(new InvalidRequestException("prompt", "prompt + completion exceed the context of "
                    + contextLength() + " tokens"));
            return f;
        }
        command(() -> {
            Resident r = resident.get(version == null ? liveVersion : version);
            if (r == null) throw new InvalidRequestException("policy_version", "policy_version " + version + " is not resident");
            int[] all = new int[prompt.length + completion.length];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(completion, 0, all, prompt.length, completion.length);
            float[][] logits = r.policy.logits(all); // [P+C][V]
            float[] out = new float[completion.length];
            Sampler sampler = samplers.get(); // the sampler's own log-softmax: the canary compares like with like
            for (int i = 0; i < completion.length; i++) {
                out[i] = sampler.logprob(logits[prompt.length - 1 + i], temperature, completion[i]);
            }
            f.complete(out);
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
        for (Resident r : resident.values()) r.policy.close();
        resident.clear();
        samplingPool.shutdown();
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
                        Resident r = resident.get(b.pinnedVersion);
                        if (r != null) r.pinnedRows = 0;
                        closeEvicted();
                    }
                }
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
        return live.rows.isEmpty() && pinned.isEmpty() && waiting.isEmpty();
    }

    private int activeRows() {
        int n = live.rows.size();
        for (Batch b : pinned.values()) n += b.rows.size();
        return n;
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
        Map<Batch, List<Active>> starting = new java.util.LinkedHashMap<>();
        Map<Batch, Integer> freeRows = new HashMap<>();
        int tokens = 0;
        while (!waiting.isEmpty() && !abortAll) {
            Active a = waiting.peek();
            Long v = a.request.pinnedVersion();
            Batch b;
            if (v == null) {
                b = live;
            } else {
                Resident r = resident.get(v);
                if (r == null || r.evicted) {
                    waiting.poll();
                    dequeued();
                    a.future.completeExceptionally(new InvalidRequestException("policy_version",
                            "policy_version " + v + " was evicted before the request started; resident: " + residentVersions()));
                    continue;
                }
                b = pinned.computeIfAbsent(v, k -> new Batch(k, new KvCache(config, pinnedRows, contextLength())));
            }
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
                start(e.getValue(), e.getKey());
            } catch (RuntimeException ex) {
                // rows already placed are failed by failRunning; requests that never got rows are failed here
                for (Active a : e.getValue()) if (a.samples == null) a.future.completeExceptionally(ex);
                throw ex;
            }
        }
    }

    private void dequeued() {
        metrics.queueDepth.set(queued.decrementAndGet());
    }

    /**
     * Prefills the prompts of {@code as} as new rows of {@code b} in one pass, then copies each prompt's row for its
     * other n-1 samples and samples everyone's first token. Rows are appended in slot order: first one row per
     * request (the prefilled ones), then the copies.
     */
    private void start(List<Active> as, Batch b) {
        Resident r = b.resident();
        int first = b.cache.active();
        int[][] prompts = new int[as.size()][];
        for (int i = 0; i < prompts.length; i++) prompts[i] = as.get(i).request.promptIds();
        float[][] logits = r.policy.prefillNew(b.cache, prompts); // [requests][V] after each prompt's last token
        long now = System.nanoTime();
        List<Row> placed = new ArrayList<>();
        List<float[]> rowLogits = new ArrayList<>();
        for (int i = 0; i < as.size(); i++) {
            Active a = as.get(i);
            a.samples = new Sample[a.request.params().n()];
            a.remaining = a.request.params().n();
            Row row = new Row(a, 0, new SplittableRandom(mix(a.seed, 0)));
            b.rows.add(row);
            placed.add(row);
            rowLogits.add(logits[i]);
            metrics.promptTokens.add(prompts[i].length);
        }
        for (int i = 0; i < as.size(); i++) {
            Active a = as.get(i);
            for (int s = 1; s < a.request.params().n(); s++) {
                b.cache.copyRow(first + i, b.cache.active()); // n samples share the prompt's prefill
                Row row = new Row(a, s, new SplittableRandom(mix(a.seed, s)));
                b.rows.add(row);
                placed.add(row);
                rowLogits.add(logits[i]);
            }
            if (b.pinnedVersion != null) r.pinnedRows += a.request.params().n();
            a.ttft = (now - a.submitted) / 1e9;
            metrics.timeToFirstToken(a.ttft);
        }
        Sampler.Sampled[] drawn = draw(placed, rowLogits.toArray(new float[0][]));
        for (int i = 0; i < placed.size(); i++) accept(placed.get(i), drawn[i], r.version);
        removeFinished(b);
    }

    /** Per-sample stream: depends on (seed, index) only, never on what else shares the batch. */
    private static long mix(long seed, int index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private void step(Batch b) {
        int rows = b.rows.size();
        if (rows == 0) return;
        Resident r = b.resident();
        int[] tokens = new int[rows]; // [B] the last sampled token of each row, fed back
        for (int i = 0; i < rows; i++) tokens[i] = b.rows.get(i).lastToken;
        long t0 = System.nanoTime();
        float[][] logits = r.policy.decode(b.cache, tokens); // [B][V]
        metrics.decodeSteps.increment();
        metrics.decodeSeconds.add((System.nanoTime() - t0) / 1e9);
        Sampler.Sampled[] drawn = draw(b.rows, logits);
        for (int i = 0; i < rows; i++) accept(b.rows.get(i), drawn[i], r.version);
        removeFinished(b);
    }

    /** Each row's next token from its logits, {@code logits[i]} for {@code rows.get(i)}. */
    private Sampler.Sampled[] draw(List<Row> rows, float[][] logits) {
        Sampler.Sampled[] out = new Sampler.Sampled[rows.size()];
        IntConsumer one = i -> {
            Row row = rows.get(i);
            out[i] = samplers.get().sample(logits[i], row.owner.request.params(), row.rng);
        };
        if (rows.size() < 2 || (long) rows.size() * config.vocabSize() < PARALLEL_SAMPLING_WORK) {
            for (int i = 0; i < out.length; i++) one.accept(i);
        } else {
            samplingPool.submit(() -> IntStream.range(0, out.length).parallel().forEach(one)).join();
        }
        return out;
    }

    /** Records the row's sampled token and decides whether the row is done. */
    private void accept(Row row, Sampler.Sampled s, long version) {
        SamplingParams sp = row.owner.request.params();
        row.add(s, version);
        metrics.tokenSampled(version);
        int t = s.token();
        String reason = null;
        if (!sp.ignoreEos() && eosIds.contains(t)) reason = "stop";
        else if (sp.stopTokenIds().contains(t)) reason = "stop";
        String delta = "";
        if (row.stops != null || row.owner.listener != null) {
            String text = tokenizer.decode(row.tokens(), true);
            if (reason == null && row.stops != null) {
                int at = row.stops.find(text, row.textLength);
                if (at >= 0) {
                    text = text.substring(0, at);
                    reason = "stop";
                }
            }
            row.textLength = text.length();
            if (reason == null && row.size() >= sp.maxTokens()) reason = "length";
            if (row.owner.listener != null) {
                int safe = text.length();
                if (reason == null) {
                    safe -= row.holdBack;
                    while (safe > 0 && text.charAt(safe - 1) == '\uFFFD') safe--; // incomplete UTF-8 so far
                }
                if (safe > row.emitted) {
                    delta = text.substring(row.emitted, safe);
                    row.emitted = safe;
                }
                if (reason == null) row.owner.listener.onToken(row.index, t, s.logprob(), version, s.topIds(), s.topLogprobs(), delta);
                else {
                    row.owner.listener.onToken(row.index, t, s.logprob(), version, s.topIds(), s.topLogprobs(), delta);
                    row.finalText = text;
                }
            } else if (reason != null) {
                row.finalText = text;
            }
        } else if (reason == null && row.size() >= sp.maxTokens()) {
            reason = "length";
        }
        // a client that went away (future cancelled) frees its rows at once
        if (reason == null && row.owner.future.isCancelled()) reason = "abort";
        if (reason != null) row.finish = reason;
    }

    /** Finished rows leave; the last row moves into each gap so that active rows stay contiguous. */
    private void removeFinished(Batch b) {
        for (int i = b.rows.size() - 1; i >= 0; i--) {
            Row row = b.rows.get(i);
            if (row.finish == null) continue;
            complete(row, row.finish);
            int moved = b.cache.release(i);
            Row last = b.rows.remove(b.rows.size() - 1);
            if (moved >= 0) b.rows.set(i, last);
            if (b.pinnedVersion != null) b.resident().pinnedRows--;
        }
    }

    private void complete(Row row, String reason) {
        Active a = row.owner;
        String text = row.finalText != null ? row.finalText : tokenizer.decode(row.tokens(), true);
        if (a.listener != null) a.listener.onFinish(row.index, reason, text.length() > row.emitted ? text.substring(row.emitted) : "");
        a.samples[row.index] = row.toSample(text, reason);
        if (--a.remaining == 0) {
            a.future.complete(new Generation(List.of(a.samples), a.seed, a.request.promptIds().length, a.ttft,
                    (System.nanoTime() - a.submitted) / 1e9));
        }
    }

    private void evict() {
        // keep the newest K; the live version is the newest
        while (resident.size() > options.keepVersions()) {
            Resident old = resident.firstEntry().getValue();
            resident.remove(old.version);
            old.evicted = true;
            if (old.pinnedRows == 0) old.policy.close();
            else evictedInUse.add(old);
        }
    }

    private final List<Resident> evictedInUse = new ArrayList<>();

    private void closeEvicted() {
        for (Iterator<Resident> it = evictedInUse.iterator(); it.hasNext(); ) {
            Resident r = it.next();
            if (r.pinnedRows <= 0) {
                r.policy.close();
                it.remove();
            }
        }
    }

    private void failRunning(Throwable t) {
        List<Batch> all = new ArrayList<>(pinned.values());
        all.add(live);
        for (Batch b : all) {
            for (Row row : b.rows) row.owner.future.completeExceptionally(t);
            b.rows.clear();
            b.cache.clear();
        }
        pinned.clear();
    }

    private void abortEverything() {
        List<Batch> all = new ArrayList<>(pinned.values());
        all.add(live);
        for (Batch b : all) {
            for (int i = b.rows.size() - 1; i >= 0; i--) complete(b.rows.get(i), "abort");
            b.rows.clear();
            b.cache.clear();
        }
        for (Active a : waiting) a.future.completeExceptionally(new IllegalStateException("the server shut down"));
        waiting.clear();
        Object o;
        while ((o = inbox.poll()) != null) {
            if (o instanceof Active a) a.future.completeExceptionally(new IllegalStateException("the server shut down"));
        }
    }

    // ------------------------------------------------------------------ state records

    private final class Batch {
        final Long pinnedVersion; // null: the live batch
        final KvCache cache;      // [Bmax, KVH, Cap, hd] per layer
        final List<Row> rows = new ArrayList<>(); // rows.get(i) lives in cache slot i

        Batch(Long pinnedVersion, KvCache cache) {
            this.pinnedVersion = pinnedVersion;
            this.cache = cache;
        }

        Resident resident() {
            if (pinnedVersion == null) return resident.get(liveVersion);
            Resident r = resident.get(pinnedVersion);
            if (r != null) return r;
            for (Resident e : evictedInUse) if (e.version == pinnedVersion) return e;
            throw new IllegalStateException("pinned version " + pinnedVersion + " lost its session");
        }
    }

    private static final class Resident {
        final long version;
        final OrtPolicy policy;
        volatile boolean evicted;
        int pinnedRows; // rows of a pinned batch running on it (decode thread only)

        Resident(long version, OrtPolicy policy) {
            this.version = version;
            this.policy = policy;
        }
    }

    private static final class Active {
        final GenerationRequest request;
        final TokenListener listener;
        final long seed;
        final long submitted = System.nanoTime();
        final CompletableFuture<Generation> future = new CompletableFuture<>();
        Sample[] samples;
        int remaining;
        double ttft;

        Active(GenerationRequest request, TokenListener listener, long seed) {
            this.request = request;
            this.listener = listener;
            this.seed = seed;
        }
    }

    private static final class Row {
        final Active owner;
        final int index;
        final SplittableRandom rng;
        final StopChecker stops;
        final int holdBack; // characters withheld from streaming while they could begin a stop string
        int[] tokens = new int[16];
        float[] logprobs = new float[16];
        long[] versions = new long[16];
        int[][] topIds;
        float[][] topLps;
        int n;
        int lastToken;
        int textLength, emitted;
        String finish, finalText;

        Row(Active owner, int index, SplittableRandom rng) {
            this.owner = owner;
            this.index = index;
            this.rng = rng;
            List<String> s = owner.request.params().stop();
            this.stops = s.isEmpty() ? null : new StopChecker(s);
            int longest = 0;
            for (String x : s) longest = Math.max(longest, x.length());
            this.holdBack = Math.max(0, longest - 1);
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
}
