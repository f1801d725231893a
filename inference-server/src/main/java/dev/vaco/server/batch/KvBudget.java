package dev.vaco.server.batch;

import dev.vaco.model.ModelConfig;
import dev.vaco.server.engine.KvCache;

/**
 * How big the KV caches are: the context served and the rows each batch gets out of the memory budget. Decided once,
 * before any cache or session exists, so that a budget holding no row fails without leaving native memory behind.
 *
 * <p>Half of the budget goes to the live batch, the other half is shared by the pinned versions' batches
 * (keepVersions - 1 of them at most); each batch gets as many rows, up to maxRows, as its share holds. A cache is
 * [rows, KVH, contextLength, hd] per layer, K and V.
 *
 * @param contextLength positions a request may fill (prompt + completion): --max-model-len, at most the model's
 * @param liveRows      rows of the live batch
 * @param pinnedRows    rows of each pinned version's batch
 */
record KvBudget(int contextLength, int liveRows, int pinnedRows) {

    /** @throws IllegalArgumentException the budget holds no row of the context */
    static KvBudget of(ModelConfig config, EngineOptions options) {
        int model = config.maxPositionEmbeddings();
        int context = options.maxModelLen() > 0 ? Math.min(options.maxModelLen(), model) : model;
        long rowBytes = KvCache.bytesPerRow(config, context);
        long budget = options.kvCacheBytes() > 0 ? options.kvCacheBytes() : maxDirectMemory() / 2;
        int liveRows = (int) Math.min(options.maxRows(), budget / 2 / rowBytes);
        int pinnedRows = (int) Math.min(options.maxRows(), budget / 2 / Math.max(1, options.keepVersions() - 1) / rowBytes);
        if (liveRows < 1 || pinnedRows < 1) {
            throw new IllegalArgumentException("a KV cache budget of " + budget + " bytes holds no row of " + context
                    + " positions (" + rowBytes + " bytes; half the budget for the live batch, half for up to "
                    + (options.keepVersions() - 1) + " pinned versions): lower --max-model-len or --keep-versions, or raise "
                    + "--kv-cache-memory-bytes");
        }
        return new KvBudget(context, liveRows, pinnedRows);
    }

    KvCache liveCache(ModelConfig config) {
        return new KvCache(config, liveRows, contextLength);
    }

    KvCache pinnedCache(ModelConfig config) {
        return new KvCache(config, pinnedRows, contextLength);
    }

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
}
