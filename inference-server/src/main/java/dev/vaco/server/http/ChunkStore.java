package dev.vaco.server.http;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The chunks of weight images this server holds for its peers, by version and index: filled as a PUT arrives or as a
 * fetch verifies them, waited on by peers that ask for a chunk not here yet (so a chain of servers pipelines).
 *
 * <p>A version's chunks are kept only while a peer may still need them: until it is activated or dropped, a newer
 * version arrives, or its upload fails. An image of a 0.5B model is ~2 GB; held as one array per chunk it needs no
 * array over 2 GB.
 */
final class ChunkStore {
    /** Refuses a wait on a version that was released: its chunks will not come. */
    static final class Gone extends RuntimeException {
        Gone(long version) {
            super("version " + version + " is not relayed here any more", null, false, false);
        }
    }

    private final Map<Long, Map<Integer, CompletableFuture<byte[]>>> versions = new ConcurrentHashMap<>();
    private final Set<Long> released = ConcurrentHashMap.newKeySet();

    /** Chunk {@code index} of {@code version}: done when it is here, failed with {@link Gone} when released. */
    CompletableFuture<byte[]> chunk(long version, int index) {
        if (released.contains(version)) return CompletableFuture.failedFuture(new Gone(version));
        CompletableFuture<byte[]> f = versions.computeIfAbsent(version, v -> new ConcurrentHashMap<>())
                .computeIfAbsent(index, i -> new CompletableFuture<>());
        if (released.contains(version)) release(version); // released meanwhile: fail what was just added
        return f;
    }

    /** A verified chunk (or one received by PUT, whose digest its fetchers check): offered to peers at once. */
    void put(long version, int index, byte[] chunk) {
        chunk(version, index).complete(chunk);
    }

    /** A new version is coming: older ones are superseded (the trainer stages one version at a time). */
    void begin(long version) {
        released.remove(version); // a version pushed again after a failed attempt
        for (Long v : versions.keySet()) if (v < version) release(v);
    }

    /** Frees {@code version}'s chunks; peers waiting for one are answered at once. */
    void release(long version) {
        released.add(version);
        Map<Integer, CompletableFuture<byte[]>> m = versions.remove(version);
        if (m != null) m.values().forEach(f -> f.completeExceptionally(new Gone(version)));
    }

    /** Activation of {@code version}: it and every older version are needed by no peer now. */
    void releaseUpTo(long version) {
        for (Long v : versions.keySet()) if (v <= version) release(v);
        released.add(version);
    }
}
