package dev.vaco.server.engine;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Weights;

import java.util.List;
import java.util.Map;

/**
 * What the engine benchmark ({@code dev.vaco.bench.OrtBench}, bench module) needs from this package's package-private
 * parts: the graph writer, the session hook that turns on ORT's profiler, and the test models' prompts. It lives in the
 * test-jar so that the engine's public API does not widen for a benchmark.
 */
public final class EngineBenchSupport {
    private EngineBenchSupport() {}

    /** {@code n} random token ids of {@code c}'s vocabulary from {@code seed} (as the engine tests use). */
    public static int[] tokens(ModelConfig c, int n, long seed) {
        return OrtTestModels.tokens(c, n, seed);
    }

    /** A policy whose session records ORT's profile into files named {@code prefix}*. */
    public static OrtPolicy createProfiled(ModelConfig c, Weights w, PolicyOptions options, String prefix) {
        return OrtPolicy.create(c, w, options, so -> so.enableProfiling(prefix));
    }

    /**
     * A policy whose session options are changed after the engine's own, by '+'-joined names (the per-session memory
     * benchmark): {@code base} (none), {@code noprepack} (session.disable_prepacking), {@code basic} / {@code noopt}
     * (graph optimisation level), {@code noarena} (no CPU memory arena), {@code nopattern} (no memory pattern),
     * {@code devinit} (session.use_device_allocator_for_initializers).
     */
    public static OrtPolicy createTuned(ModelConfig c, Weights w, PolicyOptions options, String variant) {
        return OrtPolicy.create(c, w, options, so -> {
            for (String v : variant.split("\\+")) {
                switch (v) {
                    case "base" -> { }
                    case "noprepack" -> so.addConfigEntry("session.disable_prepacking", "1");
                    case "basic" -> so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
                    case "noopt" -> so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
                    case "noarena" -> so.setCPUArenaAllocator(false);
                    case "nopattern" -> so.setMemoryPatternOptimization(false);
                    case "devinit" -> so.addConfigEntry("session.use_device_allocator_for_initializers", "1");
                    default -> throw new IllegalArgumentException("unknown session variant " + v);
                }
            }
        });
    }

    /** Ends the profiling of {@link #createProfiled} and returns the trace file. */
    public static String endProfiling(OrtPolicy p) throws OrtException {
        return p.endProfiling();
    }

    /**
     * {@code y = a b} for n x n fp32 matrices: input {@code a}, output {@code y}, and {@code b} an external initializer
     * (to be handed over from memory, so ORT prepacks it as it does the model's weights).
     */
    public static byte[] matmulModel(int n) {
        OnnxGraphBuilder g = new OnnxGraphBuilder("matmul");
        g.input("a", DataType.FLOAT, (long) n, (long) n);
        g.output("y", DataType.FLOAT, (long) n, (long) n);
        g.externalFloat("b", n, n);
        g.nodeNamed("", "MatMul", List.of("a", "b"), List.of("y"));
        return g.build().toByteArray();
    }

    /**
     * Best of 12 timed runs (after 3 warm-ups) of one linear layer y = x W^T, x [m, k], W [n, k] random: an fp32 Gemm
     * with W a prepacked initializer ({@code s} none) or MatMulNBits over W block-quantized by {@code s}; 2 threads.
     *
     * @return nanoseconds per call
     */
    public static double linearNanos(int m, int n, int k, Quantization s) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OnnxGraphBuilder g = new OnnxGraphBuilder("linear");
        g.input("x", DataType.FLOAT, (long) m, (long) k);
        if (s.enabled()) g.externalNBits("w", n, k, s);
        else g.externalFloat("w", n, k);
        g.output(g.linear("x", "w", null), DataType.FLOAT, (long) m, (long) n);
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        java.nio.FloatBuffer w = dev.vaco.model.Tensor.allocate((long) n * k), x = dev.vaco.model.Tensor.allocate((long) m * k);
        for (int i = 0; i < w.capacity(); i++) w.put(i, (float) r.nextDouble(-0.05, 0.05));
        for (int i = 0; i < x.capacity(); i++) x.put(i, (float) r.nextDouble(-1, 1));
        Map<String, OnnxTensorLike> init = new java.util.HashMap<>();
        List<OnnxTensor> owned = new java.util.ArrayList<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            if (s.enabled()) {
                BlockQuantizer.Quantized q = BlockQuantizer.quantize(w, n, k, s);
                owned.add(OnnxTensor.createTensor(env, q.data(), q.dataShape(), OnnxJavaType.UINT8));
                owned.add(OnnxTensor.createTensor(env, q.scales(), q.scalesShape()));
                owned.add(OnnxTensor.createTensor(env, q.zeroPoints(), q.zeroPointsShape(), OnnxJavaType.UINT8));
                init.put(OnnxGraphBuilder.nBitsData("w"), owned.get(0));
                init.put(OnnxGraphBuilder.nBitsScales("w"), owned.get(1));
                init.put(OnnxGraphBuilder.nBitsZeroPoints("w"), owned.get(2));
            } else {
                owned.add(OnnxTensor.createTensor(env, w, new long[] {n, k}));
                init.put("w", owned.get(0));
            }
            owned.add(OnnxTensor.createTensor(env, x, new long[] {m, k}));
            so.setIntraOpNumThreads(2);
            so.setInterOpNumThreads(1);
            so.addExternalInitializers(init);
            double best = Double.MAX_VALUE;
            try (OrtSession session = env.createSession(g.build().toByteArray(), so)) {
                for (int i = 0; i < 15; i++) {
                    long t0 = System.nanoTime();
                    try (OrtSession.Result ignored = session.run(Map.of("x", owned.get(owned.size() - 1)))) {
                        if (i >= 3) best = Math.min(best, System.nanoTime() - t0);
                    }
                }
            }
            return best;
        } finally {
            for (OnnxTensor t : owned) t.close();
        }
    }

    /**
     * One {@code com.microsoft:GroupQueryAttention} node as the engine's decode step runs it (packed q|k|v of one
     * token per row, scale 1, K/V buffers of {@code cap} positions), in {@code dt}: inputs {@code qkv, past_k, past_v,
     * seqlens_k, total_len}, outputs {@code out, present_k, present_v}.
     */
    public static byte[] groupQueryAttentionModel(DataType dt, int batch, int heads, int kvHeads, int hd, int cap) {
        int packed = (heads + 2 * kvHeads) * hd;
        OnnxGraphBuilder g = new OnnxGraphBuilder("gqa");
        g.input("qkv", dt, (long) batch, 1L, (long) packed);
        g.input("past_k", dt, (long) batch, (long) kvHeads, (long) cap, (long) hd);
        g.input("past_v", dt, (long) batch, (long) kvHeads, (long) cap, (long) hd);
        g.input("seqlens_k", DataType.INT32, (long) batch);
        g.input("total_len", DataType.INT32);
        g.nodeNamed(OnnxGraphBuilder.MS_DOMAIN, "GroupQueryAttention",
                List.of("qkv", "", "", "past_k", "past_v", "seqlens_k", "total_len"), List.of("out", "present_k", "present_v"),
                OnnxGraphBuilder.Attr.i("num_heads", heads), OnnxGraphBuilder.Attr.i("kv_num_heads", kvHeads),
                OnnxGraphBuilder.Attr.f("scale", 1f));
        g.output("out", dt, (long) batch, 1L, (long) heads * hd);
        g.output("present_k", dt, (long) batch, (long) kvHeads, (long) cap, (long) hd);
        g.output("present_v", dt, (long) batch, (long) kvHeads, (long) cap, (long) hd);
        return g.build().toByteArray();
    }
}
