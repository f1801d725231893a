package dev.vaco.server.engine;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Fixed-capacity key/value cache for continuous batching: per layer one direct buffer for K and one for V, each
 * [Bmax, KVH, Cap, hd] (row-major), plus each row's length. {@link OrtPolicy} binds rows {@code 0..active-1} of
 * these buffers as both GQA's {@code past_*} input and its pinned {@code present_*} output, so ORT appends new
 * K/V in place and never copies the cache.
 *
 * <p>Rows live in slots {@code 0..active-1} and must stay contiguous, because a decode step binds the first
 * {@code active} rows as one [B, KVH, Cap, hd] tensor. A row enters by {@link OrtPolicy#prefill} into slot
 * {@code active} or by {@link #copyRow} into slot {@code active} (n samples share one prompt's prefill); it leaves
 * by {@link #release}, which moves the last row into the gap. Positions at and after a row's length hold stale data
 * that GQA never reads (it attends to {@code seqlens_k[b] + 1} positions only).
 *
 * <p>Not thread-safe: one engine thread owns a cache. The buffers are freed by the GC with this object.
 */
public final class KvCache {
    private final ModelConfig config;
    private final int maxRows;   // Bmax
    private final int capacity;  // Cap
    private final int rowFloats; // KVH * Cap * hd
    private final FloatBuffer[] keys;   // [L] of [Bmax, KVH, Cap, hd]
    private final FloatBuffer[] values; // [L] of [Bmax, KVH, Cap, hd]
    private final int[] lengths;        // [Bmax] tokens cached per row
    private int active;

    /** Bytes one row of the cache holds over all layers, K and V: 2 x L x KVH x capacity x hd x 4. */
    public static long bytesPerRow(ModelConfig config, int capacity) {
        return 2L * config.numHiddenLayers() * config.numKeyValueHeads() * capacity * config.headDim() * Float.BYTES;
    }

    public KvCache(ModelConfig config, int maxRows, int capacity) {
        if (maxRows < 1) throw new IllegalArgumentException("KV cache needs at least one row, got " + maxRows);
        if (capacity < 1 || capacity > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("KV capacity must be in [1, max_position_embeddings="
                    + config.maxPositionEmbeddings() + "], got " + capacity);
        }
        long perRow = (long) config.numKeyValueHeads() * capacity * config.headDim();
        if (perRow * maxRows > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("KV cache of " + maxRows + " rows x " + capacity + " positions needs "
                    + perRow * maxRows * 4 + " bytes per layer buffer; the limit is 2 GB (lower --max-num-seqs or --max-model-len)");
        }
        this.config = config;
        this.maxRows = maxRows;
        this.capacity = capacity;
        this.rowFloats = (int) perRow;
        this.keys = new FloatBuffer[config.numHiddenLayers()];
        this.values = new FloatBuffer[config.numHiddenLayers()];
        for (int l = 0; l < keys.length; l++) {
            keys[l] = Tensor.allocate(perRow * maxRows);
            values[l] = Tensor.allocate(perRow * maxRows);
        }
        this.lengths = new int[maxRows];
    }

    public ModelConfig config() { return config; }

    /** Bmax: rows this cache can hold. */
    public int maxRows() { return maxRows; }

    /** Cap: positions per row. */
    public int capacity() { return capacity; }

    /** Rows in use: slots {@code 0..active-1}. */
    public int active() { return active; }

    /** Tokens cached in {@code row}. */
    public int length(int row) {
        checkActive(row, "row");
        return lengths[row];
    }

    /** Lengths of the active rows, [active]. */
    public int[] lengths() {
        return Arrays.copyOf(lengths, active);
    }

    /** Positions still free in {@code row}. */
    public int remaining(int row) {
        return capacity - length(row);
    }

    /**
     * Makes row {@code to} a copy of row {@code from} (its first {@code length(from)} positions and its length), so
     * that n samples of one prompt share its prefill. {@code to == active()} opens a new row; an active {@code to} is
     * overwritten.
     */
    public void copyRow(int from, int to) {
        checkActive(from, "source row");
        if (to < 0 || to > active || to >= maxRows) {
            throw new IllegalArgumentException("target row " + to + " must be an active row or the next free slot "
                    + active + (active == maxRows ? " (cache full: " + maxRows + " rows)" : ""));
        }
        if (from == to) return;
        copyPositions(from, to, lengths[from]);
        lengths[to] = lengths[from];
        if (to == active) active++;
    }

    /**
     * Moves row {@code from} into row {@code to} (both active) and empties {@code from}; when {@code from} is the last
     * active row the active count shrinks, which is how {@link #release} keeps rows contiguous.
     */
    public void moveRow(int from, int to) {
        checkActive(from, "source row");
        checkActive(to, "target row");
        if (from == to) return;
        copyPositions(from, to, lengths[from]);
        lengths[to] = lengths[from];
        lengths[from] = 0;
        if (from == active - 1) active--;
    }

    /**
     * Ends the sequence in {@code row}: the last active row moves into its slot (~0.4 ms at 25M, context 256).
     *
     * @return the former slot of the row that now lives in {@code row}, or -1 when {@code row} was the last one
     */
    public int release(int row) {
        checkActive(row, "row");
        int last = active - 1;
        if (row == last) {
            lengths[last] = 0;
            active--;
            return -1;
        }
        moveRow(last, row);
        return last;
    }

    /** Drops every row. */
    public void clear() {
        Arrays.fill(lengths, 0);
        active = 0;
    }

    // ---------------------------------------------------------------- for OrtPolicy

    /** Makes {@code slot} ready to receive a prefill: an active row (appended to) or the next free slot (opened). */
    void openForPrefill(int slot) {
        if (slot < 0 || slot > active || slot >= maxRows) {
            throw new IllegalArgumentException("prefill slot " + slot + " must be an active row or the next free slot "
                    + active + (active == maxRows ? " (cache full: " + maxRows + " rows)" : ""));
        }
        if (slot == active) {
            lengths[slot] = 0;
            active++;
        }
    }

    void advance(int row, int tokens) {
        lengths[row] += tokens;
    }

    /** Rows [row0, row0+rows) of layer {@code l}'s K buffer: a zero-copy view [rows, KVH, Cap, hd]. */
    FloatBuffer keys(int layer, int row0, int rows) {
        return keys[layer].slice(row0 * rowFloats, rows * rowFloats);
    }

    FloatBuffer values(int layer, int row0, int rows) {
        return values[layer].slice(row0 * rowFloats, rows * rowFloats);
    }

    long[] shape(int rows) {
        return new long[] {rows, config.numKeyValueHeads(), capacity, config.headDim()};
    }

    private void copyPositions(int from, int to, int positions) {
        int hd = config.headDim(), n = positions * hd;
        for (int l = 0; l < keys.length; l++) {
            for (FloatBuffer buf : new FloatBuffer[] {keys[l], values[l]}) {
                FloatBuffer src = buf.duplicate();
                for (int h = 0; h < config.numKeyValueHeads(); h++) {
                    int head = h * capacity * hd; // [KVH, Cap, hd]: each head's positions are contiguous
                    buf.put(to * rowFloats + head, src, from * rowFloats + head, n);
                }
            }
        }
    }

    private void checkActive(int row, String what) {
        if (row < 0 || row >= active) {
            throw new IllegalArgumentException(what + " " + row + " is not active (active rows: 0.." + (active - 1) + ")");
        }
    }
}
