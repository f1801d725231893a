package dev.vaco.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.model.wire.WeightManifest;
import dev.vaco.server.sampling.InvalidRequestException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Chunked weight relay between servers, so that the trainer sends each version's bytes once whatever the fleet's size:
 * <ul>
 * <li>a PUT that names the image's SHA-256 is received in chunks, each offered to peers as soon as it is complete
 *     ({@link #receive}); the whole digest and length are checked at the end, and a mismatch changes nothing;</li>
 * <li>{@code GET /v1/weights/chunks/{version}/{index}} serves a chunk, waiting up to {@link #LONG_POLL} for it to
 *     arrive ({@link #serveChunk});</li>
 * <li>{@code POST /v1/weights/fetch} fetches an image chunk by chunk from a list of peers, each chunk checked against
 *     the manifest's digest and asked of the next peer when refused, and offers each to its own peers at once
 *     ({@link #fetch}): in a chain, server k fetches from k-1 while k-1 is still fetching from k-2.</li>
 * </ul>
 */
final class PeerRelay {
    static final Duration LONG_POLL = Duration.ofSeconds(60);
    /**
     * A fetch asks a source to wait this long for a chunk ({@code ?wait_ms=}) and asks again while the source answers
     * "not yet" (504), up to {@link #LONG_POLL}; a source that answers nothing within {@code POLL + SILENT} is taken
     * for frozen (SIGSTOP, a hung machine) and the next source is asked. One long wait instead would hold a whole chain
     * for 75 s behind one frozen server.
     */
    static final Duration POLL = Duration.ofSeconds(2), SILENT = Duration.ofSeconds(8);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final InferenceServer server;
    private final String token;
    private final ChunkStore store = new ChunkStore();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    /** Fetches wait on peers for minutes: off Vert.x's worker pool, which serves the other blocking work. */
    private final ExecutorService fetches = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "vaco-weight-fetch");
        t.setDaemon(true);
        return t;
    });

    PeerRelay(InferenceServer server, String token) {
        this.server = server;
        this.token = token;
    }

    ChunkStore store() {
        return store;
    }

    /** The body of a PUT that names its SHA-256: as chunks, each offered to peers once complete. */
    Future<List<byte[]>> receive(RoutingContext ctx, long version, long declared, String sha256, String chunkHeader) {
        HttpServerRequest req = ctx.request();
        int chunkBytes;
        try {
            if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                throw new InvalidRequestException("X-Vaco-Sha256", "X-Vaco-Sha256 must be 64 lowercase hex digits, found '" + sha256 + "'");
            }
            chunkBytes = chunkHeader == null ? WeightManifest.DEFAULT_CHUNK : parseChunkBytes(chunkHeader);
            if (declared <= 0) throw new InvalidRequestException("Content-Length", "a relayed upload needs its Content-Length");
        } catch (InvalidRequestException e) {
            return Future.failedFuture(e);
        }
        store.begin(version);
        List<byte[]> chunks = new ArrayList<>();
        MessageDigest whole = WeightManifest.newDigest();
        // hashing a 16 MiB chunk takes ~10 ms: on a worker, in arrival order (ordered blocking calls of one context),
        // never on the event loop that also answers generation requests
        Context hashing = ctx.vertx().getOrCreateContext();
        long[] received = {0};
        byte[][] current = {null};
        int[] filled = {0};
        boolean[] overflow = {false};
        Promise<List<byte[]>> body = Promise.promise();
        req.handler(buf -> {
            int n = buf.length(), off = 0;
            if (overflow[0] || received[0] + n > declared) {
                overflow[0] = true;
                return;
            }
            while (off < n) {
                if (current[0] == null) current[0] = new byte[(int) Math.min(chunkBytes, declared - received[0])];
                int k = Math.min(n - off, current[0].length - filled[0]);
                buf.getBytes(off, off + k, current[0], filled[0]);
                off += k;
                filled[0] += k;
                received[0] += k;
                if (filled[0] == current[0].length) {
                    byte[] done = current[0];
                    hashing.executeBlocking(() -> {
                        whole.update(done);
                        return null;
                    }, true);
                    store.put(version, chunks.size(), done);
                    chunks.add(done);
                    current[0] = null;
                    filled[0] = 0;
                }
            }
        });
        req.exceptionHandler(body::tryFail);
        req.endHandler(v -> {
            if (overflow[0] || received[0] != declared) {
                body.tryFail(new InvalidRequestException("body", "body of " + (overflow[0] ? "more than " + declared : received[0])
                        + " bytes does not match its Content-Length " + declared));
                return;
            }
            // ordered after every chunk's update
            hashing.executeBlocking(() -> WeightManifest.hex(whole.digest()), true).onComplete(d -> {
                if (d.failed()) body.tryFail(d.cause());
                else if (!d.result().equals(sha256)) {
                    body.tryFail(new InvalidRequestException("X-Vaco-Sha256", "the body's SHA-256 is " + d.result()
                            + ", X-Vaco-Sha256 says " + sha256));
                } else body.tryComplete(chunks);
            });
        });
        req.resume();
        return body.future().onFailure(t -> store.release(version));
    }

    private static int parseChunkBytes(String h) {
        int n;
        try {
            n = Integer.parseInt(h);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < WeightManifest.MIN_CHUNK || n > WeightManifest.MAX_CHUNK) {
            throw new InvalidRequestException("X-Vaco-Chunk-Bytes", "X-Vaco-Chunk-Bytes must be an integer in [" + WeightManifest.MIN_CHUNK
                    + ", " + WeightManifest.MAX_CHUNK + "], found '" + h + "'");
        }
        return n;
    }

    /** GET /v1/weights/chunks/{version}/{index}: the chunk once here (504 after {@code ?wait_ms=}, 410 if released). */
    void serveChunk(RoutingContext ctx) {
        if (!server.authorized(ctx)) return;
        long version, waitMs;
        int index;
        try {
            version = pathNumber(ctx, "version");
            index = (int) Math.min(Integer.MAX_VALUE, pathNumber(ctx, "index"));
            waitMs = waitMillis(ctx.request().getParam("wait_ms"));
        } catch (InvalidRequestException e) {
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        Context context = ctx.vertx().getOrCreateContext();
        Promise<byte[]> chunk = Promise.promise();
        long timer = ctx.vertx().setTimer(Math.max(1, waitMs), id -> chunk.tryFail(new InvalidRequestException(504, "index",
                "chunk " + index + " of version " + version + " did not arrive here within " + waitMs + " ms")));
        CompletableFuture<byte[]> f = store.chunk(version, index);
        f.whenComplete((b, t) -> context.runOnContext(v -> {
            if (t != null) chunk.tryFail(t); else chunk.tryComplete(b);
        }));
        chunk.future().onComplete(r -> ctx.vertx().cancelTimer(timer)).onSuccess(b -> ctx.response()
                .putHeader("content-type", "application/octet-stream").end(Buffer.buffer(b))).onFailure(t -> {
            if (t instanceof ChunkStore.Gone) HttpErrors.send(ctx, 410, "invalid_request_error", t.getMessage(), "version");
            else HttpErrors.fail(ctx, t, server.metricsRegistry());
        });
    }

    /** {@code ?wait_ms=}: how long to wait for a chunk not here yet, at most {@link #LONG_POLL} (the default). */
    private static long waitMillis(String w) {
        if (w == null) return LONG_POLL.toMillis();
        try {
            long ms = Long.parseLong(w);
            if (ms >= 0 && ms <= LONG_POLL.toMillis()) return ms;
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new InvalidRequestException("wait_ms", "wait_ms must be an integer in [0, " + LONG_POLL.toMillis() + "], found '" + w + "'");
    }

    private static long pathNumber(RoutingContext ctx, String name) {
        String p = ctx.pathParam(name);
        if (p == null || !p.matches("\\d{1,18}")) throw new InvalidRequestException(name, name + " must be a non-negative integer, found '" + p + "'");
        return Long.parseLong(p);
    }

    /** What a fetch was asked for, every field checked. */
    private record FetchRequest(long version, boolean activate, WeightManifest manifest, List<URI> sources) {}

    /** POST /v1/weights/fetch: the image from peers, then staged or made live exactly as a PUT of it would be. */
    void fetch(RoutingContext ctx) {
        if (!server.authorized(ctx)) return;
        FetchRequest r;
        try {
            r = fetchRequest(JsonFields.parse(ctx.body().buffer()));
        } catch (RuntimeException e) {
            server.metricsRegistry().weightUpdatesRejected.increment();
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        if (!server.aboveLive(ctx, r.version())) return;
        store.begin(r.version());
        Future.fromCompletionStage(CompletableFuture.supplyAsync(() -> pull(r.manifest(), r.sources()), fetches), ctx.vertx().getOrCreateContext())
                .onFailure(t -> {
                    store.release(r.version());
                    server.metricsRegistry().weightUpdatesRejected.increment();
                    HttpErrors.fail(ctx, t, server.metricsRegistry());
                })
                .onSuccess(chunks -> server.install(ctx, r.version(), r.activate(), new InferenceServer.Upload(null, null, chunks)));
    }

    private FetchRequest fetchRequest(JsonFields f) {
        f.allowOnly(Set.of("version", "activate", "manifest", "sources"));
        Long version = f.integer("version", null);
        if (version == null) throw new InvalidRequestException("version", "version (an integer) is required");
        boolean activate = f.bool("activate", true);
        JsonObject mo = f.has("manifest") ? f.object("manifest") : null;
        if (mo == null) throw new InvalidRequestException("manifest", "manifest (an object: version, size, chunk_bytes, chunk_sha256, sha256) is required");
        WeightManifest m;
        try {
            m = WeightManifest.fromJson(JSON.readTree(mo.encode()));
        } catch (WeightManifest.Invalid e) {
            throw new InvalidRequestException(e.field, e.getMessage());
        } catch (IOException e) {
            throw new InvalidRequestException("manifest", "manifest is not JSON: " + e.getMessage());
        }
        if (m.version() != version) throw new InvalidRequestException("manifest.version", "manifest.version " + m.version() + " is not version " + version);
        if (m.size() > server.maxWeightBytes()) {
            throw new InvalidRequestException(413, "manifest.size", "manifest.size " + m.size() + " exceeds the limit of " + server.maxWeightBytes());
        }
        JsonArray s = f.has("sources") ? f.array("sources") : null;
        if (s == null || s.isEmpty()) throw new InvalidRequestException("sources", "sources (a non-empty array of peer URLs) is required");
        List<URI> sources = new ArrayList<>();
        for (Object o : s) {
            URI u = o instanceof String str && str.matches("https?://[^\\s]+") ? URI.create(str.replaceAll("/+$", "")) : null;
            if (u == null) throw new InvalidRequestException("sources", "sources must hold http(s) URLs of peers, found " + o);
            sources.add(u);
        }
        return new FetchRequest(version, activate, m, sources);
    }

    /**
     * Every chunk, in order, each from the first source that serves it with the manifest's digest. The whole image is
     * not hashed again: its chunks' digests and lengths already fix every byte, and a second pass over a 2 GB image
     * costs seconds per server (the head checks the whole digest of what the trainer PUT).
     */
    private List<byte[]> pull(WeightManifest m, List<URI> sources) {
        List<byte[]> chunks = new ArrayList<>();
        Set<URI> silent = new HashSet<>(); // answered nothing once: not asked again during this fetch
        for (int i = 0; i < m.chunks(); i++) {
            byte[] got = null;
            List<String> why = new ArrayList<>();
            boolean timedOut = true;
            for (URI src : sources) {
                String refused;
                if (silent.contains(src)) continue;
                try {
                    HttpResponse<byte[]> r = poll(src, m.version(), i);
                    byte[] b = r.body();
                    if (r.statusCode() != 200) refused = "HTTP " + r.statusCode();
                    else if (b.length != m.chunkLength(i)) refused = b.length + " bytes, expected " + m.chunkLength(i);
                    else if (!WeightManifest.hex(WeightManifest.newDigest().digest(b)).equals(m.chunkSha256().get(i))) refused = "wrong SHA-256";
                    else refused = null;
                    timedOut &= r.statusCode() == 504;
                    if (refused == null) got = b;
                } catch (HttpTimeoutException e) {
                    silent.add(src);
                    refused = "no answer within " + POLL.plus(SILENT).toSeconds() + " s (frozen?)";
                } catch (IOException e) {
                    refused = e.toString();
                    timedOut = false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("fetch interrupted: the server is shutting down");
                }
                if (got != null) break;
                why.add(src + ": " + refused);
            }
            if (got == null) {
                throw new InvalidRequestException(timedOut ? 504 : 502, "sources", "chunk " + i + " of version " + m.version()
                        + " came from no source: " + String.join("; ", why));
            }
            store.put(m.version(), i, got);
            chunks.add(got);
        }
        return chunks;
    }

    /**
     * Chunk {@code i} from {@code src}, asking again while it answers "not yet" (504) for up to {@link #LONG_POLL};
     * the last answer is returned. Throws {@link HttpTimeoutException} when {@code src} answers nothing at all.
     */
    private HttpResponse<byte[]> poll(URI src, long version, int i) throws IOException, InterruptedException {
        long end = System.nanoTime() + LONG_POLL.toNanos();
        HttpRequest req = HttpRequest.newBuilder(URI.create(src + "/v1/weights/chunks/" + version + "/" + i + "?wait_ms="
                + POLL.toMillis())).header("Authorization", "Bearer " + token).timeout(POLL.plus(SILENT)).GET().build();
        while (true) {
            HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 504 || System.nanoTime() > end) return r;
        }
    }

    void close() {
        fetches.shutdownNow();
    }
}
