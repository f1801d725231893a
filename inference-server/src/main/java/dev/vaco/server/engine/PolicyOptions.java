package dev.vaco.server.engine;

import java.util.Objects;

/**
 * Session settings of an {@link OrtPolicy}.
 *
 * @param intraOpThreads threads inside one op (matmuls); 2 on the 2-core target machine (1 thread is ~1.9x slower)
 * @param interOpThreads threads across ops; 1, the graph is a chain and execution is sequential
 * @param graph          graph layout choices
 * @param allowSpinning  ORT's {@code session.intra_op.allow_spinning}: idle pool threads spin between ops (ORT's
 *                       default, fastest on otherwise idle cores). Turn it off when the cores are shared (trainer and
 *                       server on one machine): with other processes running, a 25M batch-32 decode step took
 *                       20-39 ms without spinning against 26-54 ms with it (docs/bench/ort.md)
 * @param prepack        MLAS prepacking of the matmul weights at session creation (ORT's default, the faster decode).
 *                       The session then owns a copy of every weight (ORT copies external initializers, then keeps the
 *                       packed matmul weights and the embedding: 0.5B, 2.5 GB a version, with a 2 GB transient copy while
 *                       it is built). Off, it reads the caller's weights in place ({@code addInitializer}, no copy): a
 *                       version costs its weights alone (2.0 GB) and nothing more while built, for a slower decode
 *                       (BENCHMARKS.md "Per-session memory"); {@code vaco serve --no-weight-prepack}
 */
public record PolicyOptions(int intraOpThreads, int interOpThreads, GraphOptions graph, boolean allowSpinning, boolean prepack) {
    public static final PolicyOptions DEFAULT = new PolicyOptions(2, 1, GraphOptions.DEFAULT, true, true);

    public PolicyOptions {
        if (intraOpThreads < 1) throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        if (interOpThreads < 1) throw new IllegalArgumentException("interOpThreads must be >= 1, got " + interOpThreads);
        Objects.requireNonNull(graph, "graph");
        if (graph.quantization().enabled() && !prepack) {
            // unpacked, ORT's MatMulNBits dequantizes its whole weight to fp32 on every call
            throw new IllegalArgumentException("quantization needs weight prepacking");
        }
        if (graph.quantization().fp32Scoring() && graph.lora()) {
            // the fp32 sibling would need every adapter's inputs too
            throw new IllegalArgumentException("fp32 scoring is not available with LoRA inputs");
        }
    }

    public PolicyOptions(int intraOpThreads, int interOpThreads, GraphOptions graph) {
        this(intraOpThreads, interOpThreads, graph, true, true);
    }

    public PolicyOptions withThreads(int intraOp) {
        return new PolicyOptions(intraOp, interOpThreads, graph, allowSpinning, prepack);
    }

    public PolicyOptions withGraph(GraphOptions g) {
        return new PolicyOptions(intraOpThreads, interOpThreads, g, allowSpinning, prepack);
    }

    public PolicyOptions withSpinning(boolean spin) {
        return new PolicyOptions(intraOpThreads, interOpThreads, graph, spin, prepack);
    }

    public PolicyOptions withQuantization(Quantization q) {
        return withGraph(graph.withQuantization(q));
    }

    public PolicyOptions withPrepack(boolean p) {
        return new PolicyOptions(intraOpThreads, interOpThreads, graph, allowSpinning, p);
    }
}
