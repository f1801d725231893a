package dev.vaco.server.engine;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Weights;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One policy version on ONNX Runtime: the {@link LlamaGraph} of a config with one set of weights, as one session.
 * A new set of weights is a new {@code OrtPolicy} (session creation takes milliseconds, see docs/bench/ort.md);
 * the old one keeps working until closed. With {@link PolicyOptions#prepack()} (the default) ONNX Runtime copies the
 * weights when the session is created ({@link SessionWeights}): the policy keeps no reference to them, and the caller
 * may change or drop them afterwards. Without it the session reads them in place: they must not change while the
 * policy is open (pass {@link Weights#copy()} if the caller keeps training them).
 *
 * <p>With LoRA inputs in the graph ({@link GraphOptions#lora()}) a policy is a session plus one {@link AdapterInputs}:
 * {@link #withAdapter} makes another policy on the same session (the base weights once) that differs only in those
 * small tensors, which is all a new version or a named adapter costs. The session closes with the last policy on it.
 *
 * <p>Legend: B rows, T tokens, V vocab, Cap KV capacity. {@code run()} is thread-safe in ORT, but a {@link KvCache}
 * belongs to one thread.
 */
public final class OrtPolicy implements AutoCloseable {
    /** Requested outputs besides the pinned caches (run(inputs, pinned) alone would return nothing else). */
    private static final Set<String> LOGITS_ONLY = Set.of(LlamaGraph.LOGITS);
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final ModelConfig config;
    private final OrtSession session;
    private final long creationNanos;
    private final long packNanos;
    /**
     * The weights the session reads in place ({@link PolicyOptions#prepack()} off), else null: ORT copied them. Shared
     * with the {@link #withAdapter} siblings, closed with the session.
     */
    private final SessionWeights inPlace;
    /** Policies open on this session (this one and its {@link #withAdapter} siblings): the last to close closes it. */
    private final AtomicInteger sessionUsers;
    /** The LoRA inputs bound on every run; null when the graph has none. */
    private final AdapterInputs adapter;
    private final int loraRank;
    private long quantNanos;
    private long quantBytes;
    /** The fp32 session of the same weights ({@link Quantization#fp32Scoring()}), else null; closed with this one. */
    private OrtPolicy fullPrecision;
    private boolean closed;

    private OrtPolicy(ModelConfig config, OrtSession session, long creationNanos, long packNanos, SessionWeights inPlace,
                      AtomicInteger sessionUsers, AdapterInputs adapter, int loraRank) {
        this.config = config;
        this.session = session;
        this.creationNanos = creationNanos;
        this.packNanos = packNanos;
        this.inPlace = inPlace;
        this.sessionUsers = sessionUsers;
        this.adapter = adapter;
        this.loraRank = loraRank;
    }

    /**
     * This policy's session with other LoRA inputs ({@code adapter}, made for {@link #loraRank()}): a policy of its
     * own, closed on its own (closing it closes {@code adapter}), created in the time it takes to make the inputs.
     */
    public OrtPolicy withAdapter(AdapterInputs adapter) {
        if (loraRank == 0) throw new IllegalStateException("this session has no LoRA inputs (serve with --enable-lora)");
        synchronized (sessionUsers) {
            if (sessionUsers.get() == 0) throw new IllegalStateException("the session is closed");
            sessionUsers.incrementAndGet();
        }
        return new OrtPolicy(config, session, 0, packNanos, inPlace, sessionUsers, adapter, loraRank);
    }

    /** The graph's LoRA rank R (0: no LoRA inputs). */
    public int loraRank() { return loraRank; }

    public static OrtPolicy create(ModelConfig config, Weights weights) {
        return create(config, weights, PolicyOptions.DEFAULT);
    }

    /** @throws IllegalStateException when ORT refuses the graph or the weights (message from ORT) */
    public static OrtPolicy create(ModelConfig config, Weights weights, PolicyOptions options) {
        return create(config, weights, options, so -> { });
    }

    /** With a hook on the session options (profiling in benchmarks). */
    static OrtPolicy create(ModelConfig config, Weights weights, PolicyOptions options, SessionTuning tuning) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(options, "options");
        if (config.headDim() % 8 != 0) {
            // ORT's CPU GroupQueryAttention kernel refuses such heads at the first run; say so before that
            throw new IllegalArgumentException("head_dim " + config.headDim() + " is not a multiple of 8, which ONNX Runtime's "
                    + "GroupQueryAttention needs (every released Llama / Qwen2 model uses 64 or 128)");
        }
        long t0 = System.nanoTime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        byte[] model = LlamaGraph.build(config, options.graph()).toByteArray();
        SessionWeights init = null;
        boolean inPlace = !options.prepack();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            init = new SessionWeights(env, config, weights, options.graph());
            so.setIntraOpNumThreads(options.intraOpThreads());
            so.setInterOpNumThreads(options.interOpThreads());
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.addConfigEntry("session.intra_op.allow_spinning", options.allowSpinning() ? "1" : "0");
            if (inPlace) {
                // shared initializers: the session reads these buffers for its whole life, and packs no copy of them
                so.addConfigEntry("session.disable_prepacking", "1");
                for (var e : init.initializers().entrySet()) so.addInitializer(e.getKey(), e.getValue());
            } else {
                so.addExternalInitializers(init.initializers()); // copied by ORT during createSession
            }
            tuning.apply(so);
            OrtSession session = env.createSession(model, so);
            int rank = options.graph().loraRank();
            AdapterInputs none = rank > 0 ? AdapterInputs.none(config, rank) : null;
            OrtPolicy p = new OrtPolicy(config, session, System.nanoTime() - t0, init.packNanos, inPlace ? init : null,
                    new AtomicInteger(1), none, rank);
            p.quantNanos = init.quantNanos;
            p.quantBytes = init.quantBytes;
            if (options.graph().quantization().fp32Scoring()) {
                try {
                    p.fullPrecision = create(config, weights, options.withQuantization(Quantization.NONE), tuning);
                } catch (RuntimeException e) {
                    p.close();
                    throw e;
                }
            }
            if (!inPlace) init.close(); // ORT has its own copy: the tensors over the caller's buffers go at once
            return p;
        } catch (OrtException e) {
            if (init != null) init.close();
            throw new IllegalStateException("ONNX Runtime refused the " + config.modelType() + " graph: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (init != null) init.close();
            throw e;
        }
    }

    /** Extra session settings for tools; throws what ORT throws. */
    @FunctionalInterface
    interface SessionTuning {
        void apply(OrtSession.SessionOptions so) throws OrtException;
    }

    /** Ends ORT profiling (when a {@link SessionTuning} enabled it) and returns the trace file. */
    String endProfiling() throws OrtException {
        return session.endProfiling();
    }

    public ModelConfig config() { return config; }

    /** Wall time of {@link #create}: graph build, weight packing, session creation (with MLAS weight prepacking). */
    public long creationNanos() { return creationNanos; }

    /** Part of {@link #creationNanos()} spent concatenating q/k/v weights (0 when the graph is not packed). */
    public long packNanos() { return packNanos; }

    /** Part of {@link #creationNanos()} spent quantizing the weights in Java (0 without {@link Quantization}). */
    public long quantizeNanos() { return quantNanos; }

    /** Bytes of the quantized weights handed to ORT: values, scales, zero points (0 without {@link Quantization}). */
    public long quantizedBytes() { return quantBytes; }

    /** The fp32 policy of the same weights kept for scoring ({@link Quantization#fp32Scoring()}); null without one. */
    public OrtPolicy fullPrecision() { return fullPrecision; }

    /** A cache shaped for this model: [Bmax, KVH, Cap, hd] per layer for K and V. */
    public KvCache newCache(int maxRows, int capacity) {
        return new KvCache(config, maxRows, capacity);
    }

    /**
     * One full causal forward pass over one sequence, without a persistent cache.
     *
     * @param tokens [T], 1 <= T <= max_position_embeddings
     * @return logits [T][V]
     */
    public float[][] logits(int[] tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("logits of an empty sequence");
        if (tokens.length > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(tokens.length + " tokens exceed max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        KvCache scratch = new KvCache(config, 1, tokens.length);
        return prefillAll(scratch, 0, tokens);
    }

    /**
     * Appends {@code tokens} to row {@code slot} of {@code cache} (slot == cache.active() opens a new row) and
     * returns the logits after the last of them.
     *
     * @return [V]
     */
    public float[] prefill(KvCache cache, int slot, int[] tokens) {
        return prefill(cache, slot, tokens, false)[0];
    }

    /** As {@link #prefill(KvCache, int, int[])} but returns the logits at every new position, [T][V] (prompt log-probs). */
    public float[][] prefillAll(KvCache cache, int slot, int[] tokens) {
        return prefill(cache, slot, tokens, true);
    }

    private float[][] prefill(KvCache cache, int slot, int[] tokens, boolean allPositions) {
        checkCache(cache);
        int t = tokens.length;
        if (t == 0) throw new IllegalArgumentException("prefill of zero tokens");
        checkTokens(tokens);
        // Validate before opening the row, so a refused prefill leaves the cache as it was.
        int past = slot < cache.active() ? cache.length(slot) : 0;
        if (past + t > cache.capacity()) {
            throw new IllegalStateException("row " + slot + " holds " + past + " tokens; " + t + " more exceed the KV capacity "
                    + cache.capacity());
        }
        cache.openForPrefill(slot);
        long[] ids = new long[t];
        for (int i = 0; i < t; i++) ids[i] = tokens[i];
        long[] idx;
        if (allPositions) {
            idx = new long[t];
            for (int i = 0; i < t; i++) idx[i] = i;
        } else {
            idx = new long[] {t - 1};
        }
        // Batch 1 over this row's slice: GQA supports multi-token appends to an existing cache only at batch 1.
        float[][] out = run(cache, slot, 1, ids, t, idx, idx.length, new int[] {past + t - 1}, past + t);
        cache.advance(slot, t);
        return out;
    }

    /**
     * Prefills several new rows in one batched pass: {@code prompts[i]} becomes row {@code cache.active() + i}. Faster
     * than one {@link #prefill} per row (the matmuls see all prompts at once). Prompts are right-padded to the longest
     * one; GQA's first-prompt path limits each row to its own length, and the padding K/V it writes lies past the
     * row's length, where nothing reads it.
     *
     * @param prompts [n][T_i], each 1 <= T_i <= capacity
     * @return logits after the last token of each prompt, [n][V]
     */
    public float[][] prefillNew(KvCache cache, int[][] prompts) {
        checkCache(cache);
        int n = prompts.length, row0 = cache.active();
        if (n == 0) return new float[0][];
        if (row0 + n > cache.maxRows()) {
            throw new IllegalStateException(n + " new rows do not fit: " + row0 + " of " + cache.maxRows() + " rows are active");
        }
        int t = 0;
        for (int i = 0; i < n; i++) {
            if (prompts[i].length == 0) throw new IllegalArgumentException("prompt " + i + " is empty");
            checkTokens(prompts[i]);
            t = Math.max(t, prompts[i].length);
        }
        if (t > cache.capacity()) {
            throw new IllegalStateException("a prompt of " + t + " tokens exceeds the KV capacity " + cache.capacity());
        }
        long[] ids = new long[n * t];   // [n, T], right-padded with token 0
        long[] idx = new long[n];       // [n, 1]
        int[] seqlensK = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < prompts[i].length; j++) ids[i * t + j] = prompts[i][j];
            idx[i] = prompts[i].length - 1;
            seqlensK[i] = prompts[i].length - 1;
        }
        for (int i = 0; i < n; i++) cache.openForPrefill(row0 + i);
        float[][] out;
        try {
            // total_seq_len == T marks a first prompt: GQA then starts every row at position 0.
            out = run(cache, row0, n, ids, t, idx, 1, seqlensK, t);
        } catch (RuntimeException e) {
            for (int i = n - 1; i >= 0; i--) cache.release(row0 + i);
            throw e;
        }
        for (int i = 0; i < n; i++) cache.advance(row0 + i, prompts[i].length);
        return out;
    }

    /**
     * One decode step for every active row: row b appends {@code tokens[b]}.
     *
     * @param tokens [B] with B == cache.active()
     * @return logits [B][V]
     */
    public float[][] decode(KvCache cache, int[] tokens) {
        checkCache(cache);
        int b = cache.active();
        if (tokens.length != b) {
            throw new IllegalArgumentException("decode got " + tokens.length + " tokens for " + b + " active rows");
        }
        if (b == 0) return new float[0][];
        checkTokens(tokens);
        int[] seqlensK = new int[b];
        long[] ids = new long[b];
        long[] idx = new long[b]; // all zeros: the one new position of each row
        int total = 0;
        for (int r = 0; r < b; r++) {
            int len = cache.length(r);
            if (len + 1 > cache.capacity()) {
                throw new IllegalStateException("row " + r + " is full (" + len + " tokens, KV capacity " + cache.capacity() + ")");
            }
            seqlensK[r] = len;          // (length after this step) - 1
            total = Math.max(total, len + 1);
            ids[r] = tokens[r];
        }
        float[][] out = run(cache, 0, b, ids, 1, idx, 1, seqlensK, total);
        for (int r = 0; r < b; r++) cache.advance(r, 1);
        return out;
    }

    /**
     * Runs the graph on cache rows [row0, row0+rows).
     *
     * @param ids      [rows, t] new tokens
     * @param logitIdx [rows, p] positions (in 0..t-1) that get logits
     * @return [rows * p][V]
     */
    private float[][] run(KvCache cache, int row0, int rows, long[] ids, int t, long[] logitIdx, int p,
                          int[] seqlensK, int totalSeqLen) {
        List<OnnxTensor> created = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            Map<String, OnnxValue> pinned = new HashMap<>();
            inputs.put(LlamaGraph.INPUT_IDS, track(created, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, t})));
            inputs.put(LlamaGraph.LOGIT_IDX, track(created, OnnxTensor.createTensor(env, LongBuffer.wrap(logitIdx), new long[] {rows, p})));
            inputs.put(LlamaGraph.SEQLENS_K, track(created, OnnxTensor.createTensor(env, IntBuffer.wrap(seqlensK), new long[] {rows})));
            inputs.put(LlamaGraph.TOTAL_SEQ_LEN, track(created, OnnxTensor.createTensor(env, IntBuffer.wrap(new int[] {totalSeqLen}), new long[0])));
            if (adapter != null) inputs.putAll(adapter.inputs());
            long[] kvShape = cache.shape(rows);
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                // The same direct memory is the past input and the pinned present output: GQA sees past == present
                // and writes only the new positions.
                OnnxTensor k = track(created, OnnxTensor.createTensor(env, cache.keys(l, row0, rows), kvShape));
                OnnxTensor v = track(created, OnnxTensor.createTensor(env, cache.values(l, row0, rows), kvShape));
                inputs.put(LlamaGraph.pastKey(l), k);
                inputs.put(LlamaGraph.pastValue(l), v);
                pinned.put(LlamaGraph.presentKey(l), k);
                pinned.put(LlamaGraph.presentValue(l), v);
            }
            try (OrtSession.Result result = session.run(inputs, LOGITS_ONLY, pinned)) {
                OnnxTensor logits = (OnnxTensor) result.get(LlamaGraph.LOGITS).orElseThrow();
                FloatBuffer fb = logits.getFloatBuffer(); // [rows, p, V]
                int v = config.vocabSize();
                float[][] out = new float[rows * p][v];
                for (float[] row : out) fb.get(row);
                return out;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime forward failed: " + e.getMessage(), e);
        } finally {
            for (OnnxTensor x : created) x.close();
        }
    }

    private static OnnxTensor track(List<OnnxTensor> created, OnnxTensor t) {
        created.add(t);
        return t;
    }

    private void checkCache(KvCache cache) {
        ModelConfig c = cache.config();
        if (c.numHiddenLayers() != config.numHiddenLayers() || c.numKeyValueHeads() != config.numKeyValueHeads()
                || c.headDim() != config.headDim()) {
            throw new IllegalArgumentException("KV cache was made for another model shape");
        }
    }

    private void checkTokens(int[] tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token " + tokens[i] + " at index " + i + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    @Override
    public void close() {
        synchronized (sessionUsers) {
            if (closed) return;
            closed = true;
            if (adapter != null) adapter.close();
            if (fullPrecision != null) fullPrecision.close();
            if (sessionUsers.decrementAndGet() > 0) return;
        }
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ORT session failed", e);
        } finally {
            if (inPlace != null) inPlace.close();
        }
    }
}
