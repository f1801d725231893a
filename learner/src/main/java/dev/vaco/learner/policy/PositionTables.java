package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary cos/sin tables and the additive causal mask, built once per capacity and sliced per call.
 *
 * <p>Why cached: they are constants (no gradient), and building them from Java data on every step would both cost
 * time and create Java-backed arrays that autograd could outlive (see {@link NativeArrays}). DJL has no
 * {@code tril}/{@code triu}, so the mask is written out here. Capacity grows in powers of two up to
 * {@code max_position_embeddings}; the mask is {@code [C, C]} fp32, so it is never built larger than needed.
 *
 * <p>Numerics follow Hugging Face's {@code LlamaRotaryEmbedding}: {@code inv_freq} from
 * {@link dev.vaco.model.ModelConfig#ropeInverseFrequencies()} (rope scaling included), {@code freqs = float(pos) *
 * inv_freq} (one fp32 product), {@code emb = cat(freqs, freqs)}, cos/sin by libtorch in fp32.
 */
final class PositionTables implements AutoCloseable {
    private final NDManager manager;
    private final int headDim;
    private final float[] invFreq; // [hd/2]
    private final int maxPositions;
    private int capacity;
    private final float queryScale;
    private NDArray cos;  // [C, 1, hd]: broadcasts over [B, T, KVH, hd] after slicing to [T, 1, hd]
    private NDArray sin;  // [C, 1, hd]
    private NDArray cosQ; // [C, 1, hd]: cos * 1/sqrt(hd), for queries (see queryCos)
    private NDArray sinQ; // [C, 1, hd]
    private NDArray mask; // [C, C]: 0 where key <= query, -inf above the diagonal

    /**
     * @param queryScale folded into the query tables: {@code (q*cos + rot(q)*sin) * s == q*(cos*s) + rot(q)*(sin*s)}
     *                   up to rounding, and it saves a pass over the [B, NH, T, T] scores forward and backward
     */
    PositionTables(NDManager parent, float[] invFreq, int maxPositions, float queryScale) {
        this.manager = parent.newSubManager();
        this.queryScale = queryScale;
        this.headDim = 2 * invFreq.length;
        this.invFreq = invFreq.clone();
        this.maxPositions = maxPositions;
    }

    /** {@code [T, 1, hd]} views, valid until this object is closed or grows. */
    NDArray cos(int t) {
        ensure(t);
        return cos.get(new NDIndex(":" + t));
    }

    NDArray sin(int t) {
        ensure(t);
        return sin.get(new NDIndex(":" + t));
    }

    /** Query tables, already multiplied by the attention scale 1/sqrt(hd): {@code [T, 1, hd]}. */
    NDArray queryCos(int t) {
        ensure(t);
        return cosQ.get(new NDIndex(":" + t));
    }

    NDArray querySin(int t) {
        ensure(t);
        return sinQ.get(new NDIndex(":" + t));
    }

    /** {@code [T, T]} view of the additive causal mask. */
    NDArray causalMask(int t) {
        ensure(t);
        return mask.get(new NDIndex(":" + t + ", :" + t));
    }

    private void ensure(int t) {
        if (t < 1 || t > maxPositions) {
            throw new IllegalArgumentException("sequence length " + t + " outside [1, max_position_embeddings="
                    + maxPositions + "]");
        }
        if (t <= capacity) return;
        int c = Math.min(maxPositions, Integer.highestOneBit(Math.max(t - 1, 1)) << 1);
        c = Math.max(c, t);
        // Tables that grow are replaced, not mutated: a graph still alive may reference the old ones, and closing
        // them only drops our handle (libtorch keeps the storage while autograd needs it).
        if (cos != null) {
            cos.close();
            sin.close();
            cosQ.close();
            sinQ.close();
            mask.close();
        }
        int half = headDim / 2;
        float[] inv = invFreq;
        float[] emb = new float[c * headDim]; // [C, hd] = cat(freqs, freqs)
        for (int p = 0; p < c; p++) {
            for (int i = 0; i < half; i++) {
                float f = (float) p * inv[i];
                emb[p * headDim + i] = f;
                emb[p * headDim + half + i] = f;
            }
        }
        try (NDArray angles = NativeArrays.floats(manager, emb, new Shape(c, 1, headDim));
             NDArray scale = NativeArrays.scalar(manager, queryScale)) {
            cos = NativeArrays.keep(angles.cos());
            sin = NativeArrays.keep(angles.sin());
            cosQ = NativeArrays.keep(cos.mul(scale));
            sinQ = NativeArrays.keep(sin.mul(scale));
        }
        float[] m = new float[c * c];
        for (int q = 0; q < c; q++) {
            for (int k = q + 1; k < c; k++) m[q * c + k] = Float.NEGATIVE_INFINITY;
        }
        mask = NativeArrays.keep(NativeArrays.floats(manager, m, new Shape(c, c)));
        capacity = c;
    }

    /** rotate_half(x) = cat(-x2, x1) over the last axis, HF layout (halves, not interleaved pairs). */
    static NDArray rotateHalf(NDArray x) {
        int last = x.getShape().dimension() - 1; // DJL's split reads the axis size directly: no negative axes
        NDList halves = x.split(2, last);
        try (NDArray negX2 = halves.get(1).neg()) {
            return NDArrays.concat(new NDList(negX2, halves.get(0)), last);
        } finally {
            halves.close();
        }
    }

    /** HF's apply_rotary_pos_emb for one of q, k: {@code x * cos + rotate_half(x) * sin}; x is [B, T, heads, hd]. */
    static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        try (NDArray rotated = rotateHalf(x);
             NDArray a = x.mul(cos);
             NDArray b = rotated.mul(sin)) {
            return a.add(b);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
