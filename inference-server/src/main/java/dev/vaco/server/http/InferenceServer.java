package dev.vaco.server.http;

import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.server.engine.NativeMemory;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.chat.ChatTemplate;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.sampling.InvalidRequestException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;

/**
 * The HTTP face of a {@link GenerationEngine}. Event loops only parse, validate and route; tokenisation, template
 * rendering, safetensors parsing and session building run on worker threads; the model runs on the engine's own
 * decode thread.
 *
 * <pre>
 * GET  /health                 liveness and the live policy version
 * GET  /metrics                Prometheus text format
 * GET  /v1/models              OpenAI model list
 * POST /v1/completions         OpenAI completions (stream, logprobs, n, stop, seed; return_token_ids, policy_version)
 * POST /v1/chat/completions    OpenAI chat completions, prompt rendered with the model's chat template
 * POST /v1/generate            RL endpoint: token ids, behaviour log-probs and policy version of every token
 * POST /v1/score               log-probs of given completion tokens at a resident version (the weight-sync canary)
 * PUT  /v1/weights?version=N   new weights (safetensors body), live at once; bearer token required
 * PUT  /v1/weights?version=N&amp;activate=false   stage them: resident, scoreable pinned, sampling nothing
 * PUT  /v1/weights?version=N&amp;format=peft-lora  (or PEFT's tensor names) a LoRA adapter: the version is the startup
 *                              weights plus it, no new session (servers with --enable-lora; B scaled unless lora_alpha=)
 * POST /v1/weights/activate    make a staged version live ({"version": N}), bearer token required
 * POST /v1/weights/drop        discard a staged version ({"version": N}), bearer token required
 * POST /v1/weights/rollback    make an older resident version live again ({"version": N}), bearer token required
 * GET  /v1/weights/version     live, resident, staged and recently dropped versions
 * POST /v1/weights/fetch       fetch a version in chunks from peers, then stage or activate it ({@link PeerRelay})
 * GET  /v1/weights/chunks/V/I  chunk I of version V, for a peer's fetch (waits for it to arrive); token required
 * POST /v1/load_lora_adapter   vLLM's: serve a PEFT directory as a named adapter ({@link LoraRoutes}); token required
 * POST /v1/unload_lora_adapter stop serving it; token required
 * </pre>
 *
 * Staging exists so that a trainer can check a push (score canaries pinned to it) before any token is sampled by it:
 * generation pinned to a staged version is refused (409), only {@code /v1/score} may use it.
 *
 * With {@link Settings#apiKey} (vLLM's {@code --api-key}) every /v1 route but the weight routes needs
 * {@code Authorization: Bearer KEY} ({@link ApiKeyAuth}); /health and /metrics stay open.
 */
public final class InferenceServer extends VerticleBase {
    /**
     * @param weightsToken      bearer token that guards PUT /v1/weights
     * @param inMemoryUploadMax weight uploads with a larger Content-Length are spooled to a temporary file instead of
     *                          one array (Java arrays stop at 2 GB: an fp32 model of ~0.5B parameters)
     * @param apiKey            vLLM's {@code --api-key}: every other /v1 route needs {@code Authorization: Bearer
     *                          apiKey}; null: open
     */
    public record Settings(String host, int port, String modelName, String weightsToken, long maxWeightBytes,
                           long inMemoryUploadMax, String apiKey) {
        /** Uploads up to the largest array in memory, larger ones through a file. */
        public static final long ARRAY_MAX = Integer.MAX_VALUE - 8;

        public Settings {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], found " + port);
            if (weightsToken == null || weightsToken.isBlank()) throw new IllegalArgumentException("a weights token is required");
            if (inMemoryUploadMax < 0 || inMemoryUploadMax > ARRAY_MAX) {
                throw new IllegalArgumentException("inMemoryUploadMax must be in [0, " + ARRAY_MAX + "], found " + inMemoryUploadMax);
            }
            if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("--api-key must not be blank");
        }

        public Settings(String host, int port, String modelName, String weightsToken, long maxWeightBytes,
                        long inMemoryUploadMax) {
            this(host, port, modelName, weightsToken, maxWeightBytes, inMemoryUploadMax, null);
        }

        /** The same settings with {@code --api-key} (null: none). */
        public Settings withApiKey(String key) {
            return new Settings(host, port, modelName, weightsToken, maxWeightBytes, inMemoryUploadMax, key);
        }

        public Settings(String host, int port, String modelName, String weightsToken, long maxWeightBytes) {
            this(host, port, modelName, weightsToken, maxWeightBytes, ARRAY_MAX);
        }
    }

    private static final long MAX_JSON_BYTES = 8L << 20;
    /** Models whose fp32 weights reach this size get a collection after each version change ({@link #largeModel}). */
    private static final long COLLECT_AFTER_BYTES = 256L << 20;

    private final Settings settings;
    private final GenerationEngine engine;
    private final ChatTemplate chatTemplate; // null: the model has none; chat completions are refused
    private final ServerMetrics metrics;
    private final OpenAiApi openAi;
    private final RlApi rl;
    private final PeerRelay relay;
    private final LoraRoutes lora;
    private HttpServer server;

    public InferenceServer(Settings settings, GenerationEngine engine, ChatTemplate chatTemplate, ServerMetrics metrics) {
        this.settings = settings;
        this.engine = engine;
        this.chatTemplate = chatTemplate;
        this.metrics = metrics;
        this.openAi = new OpenAiApi(this);
        this.rl = new RlApi(this);
        this.relay = new PeerRelay(this, settings.weightsToken());
        this.lora = new LoraRoutes(this);
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        BodyHandler json = BodyHandler.create(false).setBodyLimit(MAX_JSON_BYTES);
        if (settings.apiKey() != null) router.route("/v1/*").handler(new ApiKeyAuth(settings.apiKey(), metrics));
        router.get("/health").handler(this::health);
        router.get("/metrics").handler(this::metrics);
        router.get("/v1/models").handler(this::models);
        router.post("/v1/completions").handler(json).handler(openAi::completions);
        router.post("/v1/chat/completions").handler(json).handler(openAi::chatCompletions);
        router.post("/v1/generate").handler(json).handler(rl::generate);
        router.post("/v1/score").handler(json).handler(rl::score);
        router.put("/v1/weights").handler(this::putWeights);
        router.post("/v1/weights/rollback").handler(json).handler(ctx -> changeVersion(ctx, engine::rollback));
        router.post("/v1/weights/activate").handler(json).handler(ctx -> changeVersion(ctx, v -> engine.activate(v)
                .whenComplete((x, t) -> relay.store().releaseUpTo(v))));
        router.post("/v1/weights/drop").handler(json).handler(ctx -> changeVersion(ctx, v -> engine.drop(v)
                .whenComplete((x, t) -> relay.store().release(v))));
        router.post("/v1/weights/fetch").handler(json).handler(relay::fetch);
        router.get("/v1/weights/chunks/:version/:index").handler(relay::serveChunk);
        router.get("/v1/weights/version").handler(this::version);
        router.post("/v1/load_lora_adapter").handler(json).handler(lora::load);
        router.post("/v1/unload_lora_adapter").handler(json).handler(lora::unload);
        router.route().last().handler(ctx -> HttpErrors.send(ctx, 404, "not_found_error",
                "no route for " + ctx.request().method() + " " + ctx.request().path(), null));
        router.errorHandler(413, ctx -> HttpErrors.send(ctx, 413, "invalid_request_error", "request body too large", "body"));
        router.errorHandler(405, ctx -> HttpErrors.send(ctx, 405, "invalid_request_error",
                "method " + ctx.request().method() + " not allowed on " + ctx.request().path(), null));
        router.errorHandler(500, ctx -> HttpErrors.fail(ctx, ctx.failure() == null ? new RuntimeException("internal error") : ctx.failure(), metrics));
        return vertx.createHttpServer().requestHandler(router).listen(settings.port(), settings.host())
                .onSuccess(s -> server = s);
    }

    @Override
    public Future<?> stop() throws Exception {
        relay.close();
        return super.stop();
    }

    /** The bound port (useful with port 0). */
    public int actualPort() {
        return server.actualPort();
    }

    GenerationEngine engine() { return engine; }

    ChatTemplate chatTemplate() { return chatTemplate; }

    ServerMetrics metricsRegistry() { return metrics; }

    String modelName() { return settings.modelName(); }

    /**
     * The named adapter a request's {@code model} picks: null for the served model (or no {@code model}), an adapter
     * of {@code --lora-modules} by its name; any other name is refused with 404, as OpenAI and vLLM answer.
     */
    String adapterOf(JsonFields f) {
        String m = f.string("model", null);
        if (m == null || m.equals(settings.modelName())) return null;
        if (engine.lora().names().contains(m)) return m;
        throw new InvalidRequestException(404, "model", "The model `" + m + "` does not exist.");
    }

    long maxWeightBytes() { return settings.maxWeightBytes(); }

    /** Runs blocking work on a worker thread, never on the event loop; failures become the right 4xx/5xx. */
    <T> Future<T> blocking(RoutingContext ctx, Callable<T> work) {
        return vertx.<T>executeBlocking(work, false).onFailure(t -> HttpErrors.fail(ctx, t, metrics));
    }

    private void health(RoutingContext ctx) {
        ctx.json(new JsonObject().put("status", "ok").put("model", settings.modelName())
                .put("policy_version", engine.liveVersion()));
    }

    private void metrics(RoutingContext ctx) {
        ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.render());
    }

    private void models(RoutingContext ctx) {
        JsonObject m = new JsonObject().put("id", settings.modelName()).put("object", "model").put("created", 0)
                .put("owned_by", "vaco").put("root", settings.modelName()).putNull("parent")
                .put("max_model_len", engine.contextLength()).put("policy_version", engine.liveVersion());
        if (engine.lora().rank() > 0) m.put("max_lora_rank", engine.lora().rank());
        m.put("quantization", engine.quantization().name());
        JsonArray data = new JsonArray().add(m);
        for (String a : engine.lora().names()) { // vLLM lists each adapter with its base as parent
            data.add(new JsonObject().put("id", a).put("object", "model").put("created", 0).put("owned_by", "vaco")
                    .put("root", a).put("parent", settings.modelName()).put("max_model_len", engine.contextLength()));
        }
        ctx.json(new JsonObject().put("object", "list").put("data", data));
    }

    private void version(RoutingContext ctx) {
        ctx.json(versions());
    }

    private JsonObject versions() {
        return new JsonObject().put("version", engine.liveVersion())
                .put("resident", new JsonArray(engine.residentVersions()))
                .put("staged", new JsonArray(engine.stagedVersions()))
                .put("dropped", new JsonArray(engine.droppedVersions()))
                .put("max_lora_rank", engine.lora().rank()) // > 0: adapter images (format=peft-lora) are taken
                .put("quantization", engine.quantization().name()); // the canary's tolerance follows it
    }

    /** Rollback, activation and drop: a body {"version": N}, the change on the decode thread, the versions after it. */
    private void changeVersion(RoutingContext ctx, LongFunction<CompletableFuture<Long>> change) {
        if (!authorized(ctx)) return;
        long version;
        try {
            JsonFields f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(java.util.Set.of("version"));
            Long v = f.integer("version", null);
            if (v == null) throw new InvalidRequestException("version", "version (an integer) is required");
            version = v;
        } catch (RuntimeException e) {
            HttpErrors.fail(ctx, e, metrics);
            return;
        }
        Future.fromCompletionStage(change.apply(version), ctx.vertx().getOrCreateContext())
                .onSuccess(v -> {
                    ctx.json(versions());
                    // a dropped or superseded version's relayed chunks (heap) and in-place weights (direct) are garbage
                    if (largeModel()) vertx.executeBlocking(() -> { reclaim(); return null; }, false);
                })
                .onFailure(t -> HttpErrors.fail(ctx, t, metrics));
    }

    /** Checked before the body is read: an unauthenticated upload is refused without buffering it. */
    boolean authorized(RoutingContext ctx) {
        String h = ctx.request().getHeader("Authorization");
        String expected = "Bearer " + settings.weightsToken();
        boolean ok = h != null && MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
        if (!ok) {
            metrics.weightUpdatesRejected.increment();
            System.err.printf("vaco serve: 401 for %s %s from %s: %s%n", ctx.request().method(), ctx.request().path(),
                    ctx.request().remoteAddress(), h == null ? "no weights token" : "an incorrect weights token");
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            HttpErrors.send(ctx, 401, "authentication_error", ctx.request().method() + " " + ctx.request().path()
                    + " needs 'Authorization: Bearer <token>'", "Authorization");
            return false;
        }
        return true;
    }

    /**
     * Validates everything (version, safetensors framing, names, shapes, dtypes) before anything changes, builds the
     * new session off the event loop and off the decode thread, and swaps it in between two decode steps.
     */
    private void putWeights(RoutingContext ctx) {
        if (!authorized(ctx)) return;
        String v = ctx.request().getParam("version");
        long version;
        boolean activate;
        try {
            activate = activateParam(ctx.request().getParam("activate"));
            if (v == null) throw new InvalidRequestException("version", "query parameter 'version' (an integer) is required");
            try {
                version = Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new InvalidRequestException("version", "version must be an integer, found '" + v + "'");
            }
            if (!aboveLive(ctx, version)) return;
        } catch (InvalidRequestException e) {
            metrics.weightUpdatesRejected.increment();
            HttpErrors.fail(ctx, e, metrics);
            return;
        }
        String len = ctx.request().getHeader("Content-Length");
        long declared = len != null && len.matches("\\d{1,18}") ? Long.parseLong(len) : -1; // -1: none or unreadable
        if (declared > settings.maxWeightBytes()) {
            metrics.weightUpdatesRejected.increment();
            HttpErrors.send(ctx, 413, "invalid_request_error", "weight upload of " + len + " bytes exceeds the limit of "
                    + settings.maxWeightBytes(), "body");
            return;
        }
        String sha = ctx.request().getHeader(PolicyClient.SHA256_HEADER);
        Future<Upload> body = sha == null ? upload(ctx, declared) : relay.receive(ctx, version, declared, sha,
                ctx.request().getHeader(PolicyClient.CHUNK_BYTES_HEADER)).map(chunks -> new Upload(null, null, chunks));
        body.onFailure(t -> {
            metrics.weightUpdatesRejected.increment();
            HttpErrors.fail(ctx, t, metrics);
        }).onSuccess(up -> install(ctx, version, activate, up));
    }

    /** Refuses (409) a version not above the live one: versions only go up. */
    boolean aboveLive(RoutingContext ctx, long version) {
        if (version > engine.liveVersion()) return true;
        relay.store().release(version); // peers waiting for its chunks here ask elsewhere at once
        metrics.weightUpdatesRejected.increment();
        HttpErrors.send(ctx, 409, "invalid_request_error", "version must be greater than the live version "
                + engine.liveVersion() + ", found " + version, "version");
        return false;
    }

    /**
     * Parses and validates a received image (names, shapes, dtypes) and stages it or makes it live, answering with
     * the versions and the swap time; a refused image changes nothing and its relayed chunks are let go.
     */
    void install(RoutingContext ctx, long version, boolean activate, Upload up) {
        String format = ctx.request().getParam("format"), alpha = ctx.request().getParam("lora_alpha");
        blocking(ctx, () -> {
            long bytes = up.bytes();
            double seconds;
            try {
                seconds = installParsed(version, activate, up, format, alpha);
            } finally {
                up.discard();
            }
            // The parsed tensors are garbage once the session exists (ORT copied them, SessionWeights): collect them
            // now rather than when direct memory runs out, so a large model's staged version does not cost its
            // weights twice. One full collection per large push (tens of ms, and a 200 ms wait); small pushes skip
            // it, adapter pushes of a large model included (it was 0.2-0.5 s of a 0.5B model's 35 MB adapter push)
            if (bytes >= COLLECT_AFTER_BYTES) reclaim();
            return seconds;
        }).onSuccess(seconds -> {
            if (activate) relay.store().releaseUpTo(version);
            ctx.json(versions().put("version", version).put("live", activate).put("swap_seconds", seconds));
        }).onFailure(t -> {
            relay.store().release(version);
            metrics.weightUpdatesRejected.increment();
        });
    }

    /**
     * Whether versions are big enough to collect garbage after each change: the JVM would otherwise keep a dropped
     * version's buffers (and the heap that held its chunks) until direct memory or the heap runs out.
     */
    private boolean largeModel() {
        return engine.config().parameterCount() * 4 >= COLLECT_AFTER_BYTES;
    }

    /**
     * Collects garbage, lets the cleaner free the direct buffers it found, then returns the free pages of glibc's heap
     * to the OS ({@link NativeMemory}): without the trim, what ORT and the collected buffers freed stays resident.
     */
    private static void reclaim() throws InterruptedException {
        System.gc();
        Thread.sleep(200);
        NativeMemory.trim();
    }

    /** A full image becomes a new session; an adapter image (PEFT's names) a version on the base session. */
    private double installParsed(long version, boolean activate, Upload up, String format, String alpha) throws Exception {
        Map<String, Tensor> tensors = up.tensors();
        if ("peft-lora".equals(format) || AdapterFiles.isAdapterImage(tensors.keySet())) {
            AdapterFiles.Adapter a = AdapterFiles.fromTensors(tensors, loraAlpha(alpha), engine.config(), "adapter upload");
            return engine.installAdapter(a.config(), a.tensors(), version, activate).get();
        }
        Weights w = Weights.validated(engine.config(), tensors, "weight upload");
        return (activate ? engine.publish(w, version) : engine.stage(w, version)).get();
    }

    /** {@code ?lora_alpha=} of an adapter push: PEFT's alpha; absent: B carries the scaling (vaco's trainer's pushes). */
    private static Double loraAlpha(String a) {
        if (a == null) return null;
        try {
            return Double.parseDouble(a);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("lora_alpha", "lora_alpha must be a number, found '" + a + "'");
        }
    }

    /** {@code ?activate=}: absent or true = live at once (the behaviour before staging existed), false = staged. */
    private static boolean activateParam(String a) {
        if (a == null || a.equals("true")) return true;
        if (a.equals("false")) return false;
        throw new InvalidRequestException("activate", "activate must be true or false, found '" + a + "'");
    }

    /** A received weight upload: in memory, spooled to a temporary file (deleted once parsed), or relayed chunks. */
    record Upload(ByteBuffer image, Path file, List<byte[]> chunks) {
        Map<String, Tensor> tensors() {
            if (chunks != null) return Safetensors.parse(chunks, "weight upload");
            return file == null ? Safetensors.parse(image, "weight upload") : Safetensors.read(file, "weight upload");
        }

        /** The image's size in bytes. */
        long bytes() throws java.io.IOException {
            if (chunks != null) return chunks.stream().mapToLong(c -> c.length).sum();
            return file == null ? image.remaining() : Files.size(file);
        }

        void discard() {
            if (file == null) return;
            try {
                Files.deleteIfExists(file);
            } catch (java.io.IOException e) {
                // a leftover temporary file: nothing a client can act on
            }
        }
    }

    /** Bodies over {@link Settings#inMemoryUploadMax()} go to a temporary file, written as they arrive. */
    private Future<Upload> upload(RoutingContext ctx, long declared) {
        if (declared <= settings.inMemoryUploadMax()) return uploadBody(ctx, declared).map(b -> new Upload(b, null, null));
        ctx.request().pause(); // no chunk may arrive before the file is open (pipeTo resumes)
        var fs = vertx.fileSystem();
        return fs.createTempFile("vaco-upload-", ".safetensors").compose(path -> fs.open(path, new OpenOptions().setWrite(true))
                .compose(file -> ctx.request().pipeTo(file))
                .compose(v -> fs.props(path))
                .compose(props -> props.size() == declared ? Future.succeededFuture(new Upload(null, Path.of(path), null))
                        : Future.<Upload>failedFuture(new InvalidRequestException("body", "body of " + props.size()
                                + " bytes does not match its Content-Length " + declared)))
                .onFailure(t -> fs.delete(path)));
    }

    /**
     * The upload body. With a Content-Length, each network chunk is copied once into an array of exactly that size:
     * aggregating a 100 MB body into a growing buffer and then copying it out cost most of an end-to-end swap
     * (docs/bench/serving.md). Without one (chunked transfer), the aggregated body.
     */
    private Future<ByteBuffer> uploadBody(RoutingContext ctx, long declared) {
        if (declared < 0) return ctx.request().body().map(b -> ByteBuffer.wrap(b.getBytes()));
        // A large body's array is allocated on a worker (the request stays paused meanwhile): zeroing a 0.5B model's
        // 2 GB, after the collection that makes room for it, blocked the event loop for 2.4-2.8 s a push
        if (declared >= largeBody) {
            ctx.request().pause(); // no chunk may arrive before the array exists (receive resumes)
            return vertx.executeBlocking(() -> new byte[(int) declared], false).compose(into -> receive(ctx, into));
        }
        return receive(ctx, new byte[(int) declared]);
    }

    /** Bodies from this size get their array on a worker: below it, allocation costs less than the hop (tests lower it). */
    static volatile long largeBody = 64L << 20;

    /** Copies each network chunk of the request into {@code into}, which has the declared length. */
    private Future<ByteBuffer> receive(RoutingContext ctx, byte[] into) {
        long declared = into.length;
        int[] received = {0};
        boolean[] overflow = {false};
        Promise<ByteBuffer> body = Promise.promise();
        ctx.request().handler(chunk -> {
            int n = chunk.length();
            if (overflow[0] || received[0] + n > into.length) {
                overflow[0] = true;
                return;
            }
            chunk.getBytes(0, n, into, received[0]);
            received[0] += n;
        });
        ctx.request().exceptionHandler(body::tryFail);
        ctx.request().endHandler(v -> {
            if (overflow[0]) body.tryFail(new InvalidRequestException("body", "body is longer than its Content-Length " + declared));
            else body.tryComplete(ByteBuffer.wrap(into, 0, received[0]));
        });
        ctx.request().resume();
        return body.future();
    }
}
