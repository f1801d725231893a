package dev.vaco.server.engine;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The initializers of one session: ORT tensors over the {@link Weights}' direct buffers (by HF name), the packed q|k|v
 * projections when the graph wants them, and the rotary tables. Given as external initializers (prepacking on), ONNX
 * Runtime 1.23 copies all of them into memory of its own at session creation ({@code InjectExternalInitializedTensors})
 * and then frees its copies of the matmul weights it prepacks; it never reads these buffers again (OrtPolicyTest
 * overwrites the weights of a live session), so {@link OrtPolicy} closes this object at once and a server's parsed
 * upload can be collected: a 0.5B version no longer costs 2.0 GB of Java tensors beside ORT's 2.5 GB (BENCHMARKS.md).
 * Given as shared initializers (prepacking off), the session reads these buffers for its whole life: this object then
 * holds the {@code Weights} and lives as long as the policy.
 */
final class SessionWeights implements AutoCloseable {
    private final Map<String, OnnxTensorLike> byName = new LinkedHashMap<>();
    private final List<OnnxTensor> owned = new ArrayList<>();
    /** Strong reference: a session reading them in place points into these buffers. */
    @SuppressWarnings({"unused", "FieldCanBeLocal"})
    private Weights weights;
    /** Nanoseconds spent concatenating q/k/v (the one copy; reported by the benchmark). */
    final long packNanos;
    /** Nanoseconds spent quantizing, and the bytes of the quantized weights (0 without quantization). */
    long quantNanos;
    long quantBytes;

    SessionWeights(OrtEnvironment env, ModelConfig c, Weights weights, GraphOptions options) throws OrtException {
        this.weights = weights;
        Quantization quant = options.quantization();
        long packTime = 0;
        try {
            for (Tensor t : weights.tensors()) {
                String n = t.name();
                boolean qkvPart = n.contains(".self_attn.q_proj.") || n.contains(".self_attn.k_proj.") || n.contains(".self_attn.v_proj.");
                if (options.packedQkv() && qkvPart) continue;
                if (LlamaGraph.quantized(n, quant)) putQuantized(env, n, t.data(), t.shape(), quant);
                else put(n, OnnxTensor.createTensor(env, t.data().duplicate().position(0), t.shape()));
            }
            if (c.tieWordEmbeddings() && LlamaGraph.quantized(LlamaGraph.QUANTIZED_TIED_HEAD, quant)) {
                Tensor embed = weights.get("model.embed_tokens.weight");
                putQuantized(env, LlamaGraph.QUANTIZED_TIED_HEAD, embed.data(), embed.shape(), quant);
            }
            if (options.packedQkv()) {
                long t0 = System.nanoTime();
                for (int l = 0; l < c.numHiddenLayers(); l++) {
                    String p = "model.layers." + l + ".self_attn.";
                    long rows = c.qDim() + 2L * c.kvDim();
                    // [q+2kv, H]: rows of q, then k, then v; GQA's packed input expects exactly that order
                    FloatBuffer qkv = scaleRows(concat(weights, p + "q_proj.weight", p + "k_proj.weight", p + "v_proj.weight"),
                            (long) c.qDim() * c.hiddenSize(), LlamaGraph.queryScale(c));
                    long[] shape = {rows, c.hiddenSize()};
                    String name = LlamaGraph.packedQkv(l, "weight");
                    if (LlamaGraph.quantized(name, quant)) putQuantized(env, name, qkv, shape, quant);
                    else put(name, OnnxTensor.createTensor(env, qkv, shape));
                    if (c.qkvBias()) {
                        put(LlamaGraph.packedQkv(l, "bias"), OnnxTensor.createTensor(env,
                                scaleRows(concat(weights, p + "q_proj.bias", p + "k_proj.bias", p + "v_proj.bias"),
                                        c.qDim(), LlamaGraph.queryScale(c)), new long[] {rows}));
                    }
                }
                packTime = System.nanoTime() - t0;
            }
            RotaryTables rope = RotaryTables.hf(c);
            put(LlamaGraph.COS_CACHE, OnnxTensor.createTensor(env, rope.cos(), rope.shape()));
            put(LlamaGraph.SIN_CACHE, OnnxTensor.createTensor(env, rope.sin(), rope.shape()));
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
        this.packNanos = packTime;
    }

    /** Quantizes an [n, k] weight ({@link BlockQuantizer}) into the three initializers MatMulNBits reads. */
    private void putQuantized(OrtEnvironment env, String name, FloatBuffer w, long[] shape, Quantization s) throws OrtException {
        long t0 = System.nanoTime();
        BlockQuantizer.Quantized q = BlockQuantizer.quantize(w.duplicate().position(0), Math.toIntExact(shape[0]),
                Math.toIntExact(shape[1]), s);
        put(OnnxGraphBuilder.nBitsData(name), OnnxTensor.createTensor(env, q.data(), q.dataShape(), OnnxJavaType.UINT8));
        put(OnnxGraphBuilder.nBitsScales(name), OnnxTensor.createTensor(env, q.scales(), q.scalesShape()));
        put(OnnxGraphBuilder.nBitsZeroPoints(name), OnnxTensor.createTensor(env, q.zeroPoints(), q.zeroPointsShape(),
                OnnxJavaType.UINT8));
        quantNanos += System.nanoTime() - t0;
        quantBytes += q.bytes();
    }

    private void put(String name, OnnxTensor t) {
        owned.add(t);
        byName.put(name, t);
    }

    private static FloatBuffer concat(Weights w, String... names) {
        long n = 0;
        for (String name : names) n += w.get(name).numel();
        FloatBuffer out = Tensor.allocate(n);
        for (String name : names) out.put(w.get(name).data().duplicate().position(0));
        return out.flip();
    }

    /** Multiplies the first n values (the q rows) by s in place. */
    private static FloatBuffer scaleRows(FloatBuffer b, long n, float s) {
        for (int i = 0; i < n; i++) b.put(i, b.get(i) * s);
        return b;
    }

    /** The map for {@code SessionOptions.addExternalInitializers}. */
    Map<String, OnnxTensorLike> initializers() {
        return byName;
    }

    @Override
    public void close() {
        for (OnnxTensor t : owned) t.close();
        owned.clear();
        byName.clear();
        weights = null;
    }

    /**
     * HF's rotary tables, [maxPositionEmbeddings, hd/2]: cos/sin(pos * inv_freq[i]) with inv_freq from
     * {@link ModelConfig#ropeInverseFrequencies()} (1 / theta^(2i/hd), then the config's rope scaling). Computed in fp32
     * step by step as HF does (fp32 inv_freq, fp32 product,
     * fp32 cos/sin), so the angles round the same way. GQA with rotary_interleaved=0 applies them rotate-half style:
     * out[i] = x[i]cos_i - x[i+hd/2]sin_i, out[i+hd/2] = x[i+hd/2]cos_i + x[i]sin_i, which is HF's
     * q*cos + rotate_half(q)*sin with cos = cat(freqs, freqs).
     */
    record RotaryTables(FloatBuffer cos, FloatBuffer sin, long[] shape) {
        static RotaryTables hf(ModelConfig c) {
            int half = c.headDim() / 2, positions = c.maxPositionEmbeddings();
            float[] invFreq = c.ropeInverseFrequencies(); // rope scaling included
            FloatBuffer cos = Tensor.allocate((long) positions * half), sin = Tensor.allocate((long) positions * half);
            for (int p = 0; p < positions; p++) {
                for (int i = 0; i < half; i++) {
                    float angle = (float) p * invFreq[i];
                    cos.put(p * half + i, (float) Math.cos(angle));
                    sin.put(p * half + i, (float) Math.sin(angle));
                }
            }
            return new RotaryTables(cos, sin, new long[] {positions, half});
        }
    }
}
