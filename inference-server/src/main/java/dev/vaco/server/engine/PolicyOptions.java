package dev.vaco.server.engine;

import java.util.Objects;

/**
 * Session settings of an {@link OrtPolicy}.
 *
 * @param intraOpThreads threads inside one op (matmuls); 2 on the 2-core target machine (1 thread is ~1.9x slower)
 * @param interOpThreads threads across ops; 1, the graph is a chain and execution is sequential
 * @param graph          graph layout choices
 */
public record PolicyOptions(int intraOpThreads, int interOpThreads, GraphOptions graph) {
    public static final PolicyOptions DEFAULT = new PolicyOptions(2, 1, GraphOptions.DEFAULT);

    public PolicyOptions {
        if (intraOpThreads < 1) throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        if (interOpThreads < 1) throw new IllegalArgumentException("interOpThreads must be >= 1, got " + interOpThreads);
        Objects.requireNonNull(graph, "graph");
    }

    public PolicyOptions withThreads(int intraOp) {
        return new PolicyOptions(intraOp, interOpThreads, graph);
    }

    public PolicyOptions withGraph(GraphOptions g) {
        return new PolicyOptions(intraOpThreads, interOpThreads, g);
    }
}
