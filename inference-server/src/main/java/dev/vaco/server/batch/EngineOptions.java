package dev.vaco.server.batch;

import dev.vaco.server.engine.PolicyOptions;

/**
 * The engine's settings.
 *
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
public record EngineOptions(int maxRows, int queueCapacity, int keepVersions, PolicyOptions policy, int maxModelLen,
                            long kvCacheBytes) {
    public static final EngineOptions DEFAULT = new EngineOptions(64, 256, 4, PolicyOptions.DEFAULT);
    /** The command line's default cap: real models' contexts would not fit a preallocated KV cache. */
    public static final int DEFAULT_MAX_MODEL_LEN = 4096;

    public EngineOptions {
        if (maxRows < 1) throw new IllegalArgumentException("maxRows must be >= 1, found " + maxRows);
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be >= 1, found " + queueCapacity);
        if (keepVersions < 1) throw new IllegalArgumentException("keepVersions must be >= 1, found " + keepVersions);
        if (maxModelLen < 0 || maxModelLen == 1) {
            throw new IllegalArgumentException("--max-model-len must be >= 2 (or 0 for the model's), found " + maxModelLen);
        }
        if (kvCacheBytes < 0) throw new IllegalArgumentException("--kv-cache-memory-bytes must be >= 0, found " + kvCacheBytes);
    }

    /** The model's whole context. */
    public EngineOptions(int maxRows, int queueCapacity, int keepVersions, PolicyOptions policy) {
        this(maxRows, queueCapacity, keepVersions, policy, 0, 0);
    }

    /** The default KV budget: half of the JVM's direct-memory limit. */
    public EngineOptions(int maxRows, int queueCapacity, int keepVersions, PolicyOptions policy, int maxModelLen) {
        this(maxRows, queueCapacity, keepVersions, policy, maxModelLen, 0);
    }
}
