package dev.vaco.model.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.model.Weights;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The trainer's and evaluator's side of the inference server's RL routes: {@code POST /v1/generate},
 * {@code POST /v1/score}, {@code PUT /v1/weights} (live at once, or staged and then activated or dropped),
 * {@code POST /v1/weights/fetch} (a server fetches a version from its peers in chunks), {@code GET /health}. Only wire records cross this boundary,
 * never engine code, so a server may run in this process or on another machine.
 *
 * <p>A 429 (queue full) is retried after the server's {@code Retry-After}; any other failure is returned as a
 * {@link ServerException} carrying the status and the server's message, for the caller to retry elsewhere.
 */
public final class PolicyClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_429_RETRIES = 50;

    private final URI base;
    private final String weightsToken;
    private final String apiKey; // null: the server was started without --api-key
    private final HttpClient http;
    private final ScheduledExecutorService retries;
    private final long inMemoryPushMax;

    public PolicyClient(URI base, String weightsToken) {
        this(base, weightsToken, Integer.MAX_VALUE - 8);
    }

    /**
     * @param inMemoryPushMax weight pushes with a larger body are streamed from a temporary file instead of one array
     *                        (Java arrays stop at 2 GB: an fp32 model of ~0.5B parameters)
     */
    public PolicyClient(URI base, String weightsToken, long inMemoryPushMax) {
        this(base, weightsToken, null, inMemoryPushMax);
    }

    /** A client of a server started with {@code --api-key apiKey} (null: none), sent on every route but the weight routes. */
    public PolicyClient(URI base, String weightsToken, String apiKey) {
        this(base, weightsToken, apiKey, Integer.MAX_VALUE - 8);
    }

    public PolicyClient(URI base, String weightsToken, String apiKey, long inMemoryPushMax) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.weightsToken = weightsToken;
        this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
        this.inMemoryPushMax = inMemoryPushMax;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vaco-client-retry");
            t.setDaemon(true);
            return t;
        });
    }

    public URI base() {
        return base;
    }

    /** Images larger than this are serialised to a temporary file rather than one array. */
    public long inMemoryPushMax() {
        return inMemoryPushMax;
    }

    /** A non-2xx answer: status and the server's error message. */
    public static final class ServerException extends RuntimeException {
        public final int status;

        public ServerException(int status, String message) {
            super("HTTP " + status + ": " + message);
            this.status = status;
        }
    }

    /**
     * @param promptTokenIds [P] ids produced once by the caller
     * @param policyVersion  pin a resident version, or null for the live one
     */
    public record GenerateRequest(int[] promptTokenIds, int n, double temperature, double topP, int topK, int maxTokens,
                                  List<String> stop, Long seed, Long policyVersion, boolean ignoreEos) {}

    /** One completion: per token its id, behaviour log-prob and the version that sampled it. */
    public record Completion(int index, int[] tokenIds, String text, float[] logprobs, long[] policyVersions,
                             String finishReason) {}

    public record GenerateResponse(long seed, int[] promptTokenIds, List<Completion> samples) {}

    public CompletableFuture<GenerateResponse> generate(GenerateRequest r) {
        ObjectNode o = JSON.createObjectNode();
        ints(o.putArray("prompt_token_ids"), r.promptTokenIds());
        o.put("n", r.n()).put("temperature", r.temperature()).put("top_p", r.topP()).put("top_k", r.topK())
                .put("max_tokens", r.maxTokens()).put("ignore_eos", r.ignoreEos());
        if (r.stop() != null && !r.stop().isEmpty()) r.stop().forEach(o.putArray("stop")::add);
        if (r.seed() != null) o.put("seed", r.seed());
        if (r.policyVersion() != null) o.put("policy_version", r.policyVersion());
        return postJson("v1/generate", o.toString(), 0).thenApply(PolicyClient::parseGenerate);
    }

    private static GenerateResponse parseGenerate(JsonNode j) {
        List<Completion> samples = new ArrayList<>();
        for (JsonNode s : j.path("samples")) {
            JsonNode lp = s.path("logprobs"), vs = s.path("policy_versions");
            float[] l = new float[lp.size()];
            long[] v = new long[vs.size()];
            for (int i = 0; i < l.length; i++) l[i] = (float) lp.get(i).doubleValue();
            for (int i = 0; i < v.length; i++) v[i] = vs.get(i).longValue();
            samples.add(new Completion(s.path("index").intValue(), toInts(s.path("token_ids")), s.path("text").asText(), l, v,
                    s.path("finish_reason").asText()));
        }
        return new GenerateResponse(j.path("seed").longValue(), toInts(j.path("prompt_token_ids")), samples);
    }

    /** Log-probs of {@code completion} after {@code prompt} at a version (null = live), as the server computes them. */
    public CompletableFuture<float[]> score(int[] prompt, int[] completion, double temperature, Long version) {
        ObjectNode o = JSON.createObjectNode();
        ints(o.putArray("prompt_token_ids"), prompt);
        ints(o.putArray("completion_token_ids"), completion);
        o.put("temperature", temperature);
        if (version != null) o.put("policy_version", version);
        return postJson("v1/score", o.toString(), 0).thenApply(j -> {
            JsonNode lp = j.path("logprobs");
            float[] out = new float[lp.size()];
            for (int i = 0; i < out.length; i++) out[i] = (float) lp.get(i).doubleValue();
            return out;
        });
    }

    /** Pushes a full set of weights as {@code version}, live at once; returns the server's swap time in seconds. */
    public double pushWeights(Weights weights, long version) throws IOException, InterruptedException {
        return upload(weights, version, true);
    }

    /**
     * Pushes a full set of weights as {@code version}, staged: resident and scoreable when pinned, but sampling nothing
     * until {@link #activate}; {@link #drop} discards them. Returns the server's time to a resident session.
     */
    public double stageWeights(Weights weights, long version) throws IOException, InterruptedException {
        return upload(weights, version, false);
    }

    private double upload(Weights weights, long version, boolean live) throws IOException, InterruptedException {
        try (WeightImage image = WeightImage.of(weights, inMemoryPushMax)) {
            return putImage(image, version, live, null);
        }
    }

    /**
     * PUTs an image already serialised as {@code version}; with a {@code manifest} the server checks the whole
     * image's SHA-256 and length (a mismatch is refused with 400) and offers each chunk to peers as it arrives
     * ({@link #fetchWeights}). Returns the server's time to a resident session.
     */
    public double putImage(WeightImage image, long version, boolean live, WeightManifest manifest) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("v1/weights?version=" + version + (live ? "" : "&activate=false")))
                .header("content-type", "application/octet-stream").PUT(image.publisher());
        if (manifest != null) b.header(SHA256_HEADER, manifest.sha256()).header(CHUNK_BYTES_HEADER, Integer.toString(manifest.chunkBytes()));
        return weightRequest(b);
    }

    /** The whole image's SHA-256 (hex) on a PUT; with it the server relays the image to peers in chunks. */
    public static final String SHA256_HEADER = "X-Vaco-Sha256";
    /** The chunk size of that relay ({@link WeightManifest#DEFAULT_CHUNK} when absent). */
    public static final String CHUNK_BYTES_HEADER = "X-Vaco-Chunk-Bytes";

    /**
     * Has the server fetch {@code manifest}'s image chunk by chunk from {@code sources} (each chunk from the first
     * source that serves it with the right digest) and stage it (or make it live) as a PUT would.
     */
    public double fetchWeights(WeightManifest manifest, List<URI> sources, boolean live) throws IOException, InterruptedException {
        ObjectNode o = JSON.createObjectNode().put("version", manifest.version()).put("activate", live);
        o.set("manifest", manifest.toJson());
        sources.forEach(s -> o.withArray("sources").add(s.toString()));
        return weightRequest(HttpRequest.newBuilder(base.resolve("v1/weights/fetch")).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(o.toString())));
    }

    private double weightRequest(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpRequest req = b.header("Authorization", "Bearer " + weightsToken).timeout(Duration.ofMinutes(10)).build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new ServerException(r.statusCode(), errorMessage(r.body()));
        return JSON.readTree(r.body()).path("swap_seconds").doubleValue();
    }

    /** Makes an older resident version live again (an operator's undo; a trainer drops a bad staged push instead). */
    public void rollback(long version) throws IOException, InterruptedException {
        changeVersion("v1/weights/rollback", version);
    }

    /** Makes a staged version live (the live version again: a no-op, so a retried activation is harmless). */
    public void activate(long version) throws IOException, InterruptedException {
        changeVersion("v1/weights/activate", version);
    }

    /** Discards a staged version, which never sampled a token (dropping it again is a no-op). */
    public void drop(long version) throws IOException, InterruptedException {
        changeVersion("v1/weights/drop", version);
    }

    private void changeVersion(String path, long version) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(base.resolve(path))
                .header("Authorization", "Bearer " + weightsToken).header("content-type", "application/json")
                .timeout(Duration.ofMinutes(1)).POST(HttpRequest.BodyPublishers.ofString("{\"version\": " + version + "}")).build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new ServerException(r.statusCode(), errorMessage(r.body()));
    }

    /** GET /health: true when the server answers ok. */
    public boolean healthy() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("health")).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * GET /health with a deadline, without blocking a thread: true when the server answers 200 in time. A frozen server
     * (SIGSTOP) accepts the connection and answers nothing; this is how a caller tells it from a slow one.
     */
    public CompletableFuture<Boolean> probe(Duration timeout) {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("health")).timeout(timeout).GET().build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).handle((r, e) -> e == null && r.statusCode() == 200);
    }

    /** The server's context length in tokens (prompt plus completion), from {@code GET /v1/models}. */
    public int contextLength() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(withKey(HttpRequest.newBuilder(base.resolve("v1/models"))).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new ServerException(r.statusCode(), errorMessage(r.body()));
        return JSON.readTree(r.body()).path("data").path(0).path("max_model_len").intValue();
    }

    /** What {@code GET /v1/weights/version} reports: the live version and the staged ones, oldest first. */
    /**
     * @param live    the version new requests sample with
     * @param staged  versions pushed but not yet activated
     * @param highest the highest version number the server has used (live, resident, staged or recently dropped): a
     *                server never takes a number twice, so a trainer that starts or resumes numbers above it
     */
    public record ServedVersions(long live, List<Long> staged, long highest) {}

    /**
     * The rank of the server's LoRA inputs ({@code --max-lora-rank} with {@code --enable-lora}), from
     * {@code GET /v1/weights/version}; 0 when it has none (it then takes full weights only).
     */
    public int maxLoraRank() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("v1/weights/version")).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new ServerException(r.statusCode(), errorMessage(r.body()));
        return JSON.readTree(r.body()).path("max_lora_rank").asInt(0);
    }

    /**
     * The server's weight quantization ({@code vaco serve --quantization}: {@code none}, {@code int8}, {@code int4}) from
     * {@code GET /v1/weights/version}; {@code none} from a server that does not say.
     */
    public String quantization() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("v1/weights/version")).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new ServerException(r.statusCode(), errorMessage(r.body()));
        return JSON.readTree(r.body()).path("quantization").asText("none");
    }

    /** The live policy version the server reports. */
    public long liveVersion() throws IOException, InterruptedException {
        return versions().live();
    }

    public ServedVersions versions() throws IOException, InterruptedException {
        // a deadline: a frozen server would otherwise hold a resuming trainer or a bring-up forever
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("v1/weights/version")).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new ServerException(r.statusCode(), errorMessage(r.body()));
        JsonNode j = JSON.readTree(r.body());
        List<Long> staged = new ArrayList<>();
        for (JsonNode v : j.path("staged")) staged.add(v.longValue());
        long highest = j.path("version").longValue();
        for (String f : List.of("resident", "staged", "dropped")) for (JsonNode v : j.path(f)) highest = Math.max(highest, v.longValue());
        return new ServedVersions(j.path("version").longValue(), staged, highest);
    }

    private CompletableFuture<JsonNode> postJson(String path, String body, int attempt) {
        HttpRequest req = withKey(HttpRequest.newBuilder(base.resolve(path))).header("content-type", "application/json")
                .timeout(Duration.ofMinutes(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
            if (r.statusCode() == 429 && attempt < MAX_429_RETRIES) {
                long wait = r.headers().firstValueAsLong("Retry-After").orElse(1);
                CompletableFuture<JsonNode> next = new CompletableFuture<>();
                retries.schedule(() -> postJson(path, body, attempt + 1).whenComplete((v, t) -> {
                    if (t != null) next.completeExceptionally(t); else next.complete(v);
                }), Math.min(wait * 1000, 2000) / (attempt < 5 ? 4 : 1), TimeUnit.MILLISECONDS);
                return next;
            }
            if (r.statusCode() != 200) throw new CompletionException(new ServerException(r.statusCode(), errorMessage(r.body())));
            try {
                return CompletableFuture.completedFuture(JSON.readTree(r.body()));
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        });
    }

    /** The API key goes with every request but the weight routes, which carry the weights token instead (vLLM's split). */
    private HttpRequest.Builder withKey(HttpRequest.Builder b) {
        return apiKey == null ? b : b.header("Authorization", "Bearer " + apiKey);
    }

    private static String errorMessage(String body) {
        try {
            JsonNode e = JSON.readTree(body).path("error");
            return e.isMissingNode() ? body : e.path("message").asText(body);
        } catch (IOException ex) {
            return body;
        }
    }

    private static void ints(ArrayNode a, int[] values) {
        for (int v : values) a.add(v);
    }

    private static int[] toInts(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).intValue();
        return out;
    }

    @Override
    public void close() {
        retries.shutdownNow();
    }
}
