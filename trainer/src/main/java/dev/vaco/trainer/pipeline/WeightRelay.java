package dev.vaco.trainer.pipeline;

import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.model.wire.WeightImage;
import dev.vaco.model.wire.WeightManifest;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stages a version on every server while the trainer sends its bytes once: the image is serialised once, PUT to the
 * first server with its SHA-256, and every other server fetches it in chunks from its predecessor in a chain (server
 * k from k-1, then k-2, ..., 0 should one refuse or fail), each chunk digest-checked against the manifest.
 *
 * <p>Why a chain and not a tree: each server downloads the image once and uploads it once, so no link carries more
 * than one image, and chunks pipeline down the chain, so the last server is done about one image transfer plus N
 * chunk times after the start. A pipelined tree of fan-out f has its inner servers upload f copies (f image transfers
 * at equal links) but only depth x f chunk times: it wins once N chunk times outgrow an image transfer, which with
 * 16 MiB chunks is at a few hundred servers (BENCHMARKS.md "Fleet": 1,024 servers at 10 Gb/s, 0.5B model, a binary
 * tree ~4.8 s, this chain 27 s with 16 MiB chunks and ~5.6 s with 1 MiB ones). On loopback both move the same bytes
 * through the same cores; the chain was kept as the simpler one, and a large fleet should lower the chunk size.
 *
 * <p>A server whose fetch fails (every source refused or silent) gets a direct PUT, counted in the bytes sent. With
 * one server this is the plain PUT of before.
 */
public final class WeightRelay implements AutoCloseable {
    /**
     * What one version's distribution cost.
     *
     * @param bytesSent image bytes the trainer uploaded (one image, plus one per fallback PUT)
     * @param seconds   from serialising to the last server staged
     * @param swapSeconds the slowest server's time to a resident session
     * @param failed    servers that staged nothing (neither fetch nor PUT)
     */
    public record Report(long bytesSent, double seconds, double swapSeconds, int fallbacks, List<PolicyClient> failed) {}

    private final int chunkBytes;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "vaco-relay");
        t.setDaemon(true);
        return t;
    });

    public WeightRelay(int chunkBytes) {
        this.chunkBytes = chunkBytes;
    }

    /** Stages (or, {@code live}, publishes) {@code weights} as {@code version} on {@code servers}, the first one by PUT. */
    public Report distribute(List<PolicyClient> servers, Weights weights, long version, boolean live) {
        return distribute(servers, weights, version, live, s -> false);
    }

    /**
     * As above; a server for which {@code abandoned} turns true meanwhile (the trainer marked it down: frozen or gone)
     * is not waited for and counts as failed: its peers further down the chain fetch from the sources before it.
     */
    public Report distribute(List<PolicyClient> servers, Weights weights, long version, boolean live,
                             Predicate<PolicyClient> abandoned) {
        long t0 = System.nanoTime();
        if (servers.isEmpty()) return new Report(0, 0, 0, 0, List.of());
        AtomicLong sent = new AtomicLong();
        List<PolicyClient> failed = new ArrayList<>();
        double worst = 0;
        int fallbacks = 0;
        try (WeightImage image = WeightImage.of(weights, servers.get(0).inMemoryPushMax())) {
            WeightManifest m = servers.size() == 1 ? null : image.manifest(version, chunkBytes);
            List<CompletableFuture<Double>> fs = new ArrayList<>();
            int[] fellBack = new int[servers.size()];
            for (int k = 0; k < servers.size(); k++) {
                int server = k;
                fs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        if (server > 0) {
                            try {
                                return servers.get(server).fetchWeights(m, sources(servers, server), live);
                            } catch (PolicyClient.ServerException e) {
                                fellBack[server] = 1; // every peer failed it (or it refused the manifest): send it directly
                            }
                        }
                        sent.addAndGet(image.size());
                        return servers.get(server).putImage(image, version, live, m);
                    } catch (Exception e) {
                        throw new CompletionException(e);
                    }
                }, pool));
            }
            for (int k = 0; k < fs.size(); k++) {
                Double swap = await(fs.get(k), servers.get(k), abandoned);
                if (swap == null) failed.add(servers.get(k));
                else worst = Math.max(worst, swap);
                fallbacks += fellBack[k];
            }
        } catch (java.io.IOException e) {
            failed.addAll(servers); // the image could not be written: nothing was sent
        }
        return new Report(sent.get(), (System.nanoTime() - t0) / 1e9, worst, fallbacks, failed);
    }

    /** The server's swap time, or null when it failed or was abandoned (its call may still end later: ignored). */
    private static Double await(CompletableFuture<Double> f, PolicyClient server, Predicate<PolicyClient> abandoned) {
        try {
            return ServerSet.awaitUnless(f, () -> abandoned.test(server));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Server k's sources, nearest first: k-1, k-2, ..., 0. */
    private static List<URI> sources(List<PolicyClient> servers, int k) {
        List<URI> out = new ArrayList<>();
        for (int i = k - 1; i >= 0; i--) out.add(servers.get(i).base());
        return out;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
