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
 */
public record PolicyOptions(int intraOpThreads, int interOpThreads, GraphOptions graph, boolean allowSpinning) {
    public static final PolicyOptions DEFAULT = new PolicyOptions(2, 1, GraphOptions.DEFAULT, true);

    public PolicyOptions {
        if (intraOpThreads < 1) throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        if (interOpThreads < 1) throw new IllegalArgumentException("interOpThreads must be >= 1, got " + interOpThreads);
        Objects.requireNonNull(graph, "graph");
    }

    public PolicyOptions(int intraOpThreads, int interOpThreads, GraphOptions graph) {
        this(intraOpThreads, interOpThreads, graph, true);
    }

    public PolicyOptions withThreads(int intraOp) {
        return new PolicyOptions(intraOp, interOpThreads, graph, allowSpinning);
    }

    public PolicyOptions withGraph(GraphOptions g) {
        return new PolicyOptions(intraOpThreads, interOpThreads, g, allowSpinning);
    }

    public PolicyOptions withSpinning(boolean spin) {
        return new PolicyOptions(intraOpThreads, interOpThreads, graph, spin);
    }
}
