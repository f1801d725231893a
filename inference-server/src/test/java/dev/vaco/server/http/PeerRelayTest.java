package dev.vaco.server.http;

import dev.vaco.model.MathTokenizer;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.model.wire.WeightImage;
import dev.vaco.model.wire.WeightManifest;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The chunked weight relay between real servers on loopback: PUT with a digest, chunk routes, fetch from peers. */
class PeerRelayTest {
    static final String TOKEN = "relay-token";
    static final int CHUNK = 1 << 20; // the tiny model's 6.6 MB image in 7 chunks
    static final int[] PROMPT = {5, 6, 7, 8}, COMPLETION = {9, 10, 11, 12, 13};
    final HttpClient http = HttpClient.newHttpClient();
    final List<AutoCloseable> open = new ArrayList<>();
    @TempDir Path dir;
    Path model;
    ModelConfig config;

    @BeforeEach
    void tinyModel() throws Exception {
        model = dir.resolve("m");
        config = ModelInit.initTiny(model, 3).config();
    }

    /** New weights for the tiny model, serialised as a trainer would. */
    private WeightImage image() throws Exception {
        return WeightImage.of(ModelInit.random(config, 42), Integer.MAX_VALUE - 8);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) c.close();
    }

    private Server start(Path model) {
        Server s = Server.start(model, new InferenceServer.Settings("127.0.0.1", 0, "tiny", TOKEN, 64L << 20),
                new EngineOptions(8, 8, 3, PolicyOptions.DEFAULT));
        open.add(s);
        return s;
    }

    private PolicyClient client(Server s) {
        PolicyClient c = new PolicyClient(url(s.port()), TOKEN);
        open.add(c);
        return c;
    }

    private static URI url(int port) {
        return URI.create("http://127.0.0.1:" + port);
    }

    private static <T> CompletableFuture<T> async(Callable<T> c) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.call();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postFetch(Server s, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(url(s.port()).resolve("/v1/weights/fetch")).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return send(b);
    }

    private static void assertRefused(HttpResponse<String> r, int status, String param) {
        WeightStagingRoutesTest.assertRefused(r, status, param);
    }

    @Test
    void aChainOfThreeStagesTheSameBytesEverywhereAndCorruptOrTruncatedChunksAreFetchedAgainElsewhere() throws Exception {
        Server s0 = start(model), s1 = start(model), s2 = start(model);
        long v = s0.engine().liveVersion() + 1;
        try (WeightImage image = image();
             CorruptingProxy bad = new CorruptingProxy(s1.port())) {
            WeightManifest m = image.manifest(v, CHUNK);
            assertThat(m.chunks()).isGreaterThanOrEqualTo(4);
            // the peers ask before the image exists anywhere: their first requests wait for chunks the PUT brings
            var f1 = async(() -> client(s1).fetchWeights(m, List.of(url(s0.port())), false));
            var f2 = async(() -> client(s2).fetchWeights(m, List.of(url(bad.port()), url(s0.port())), false));
            Thread.sleep(300);
            client(s0).putImage(image, v, false, m);
            assertThat(f1.join()).isGreaterThanOrEqualTo(0);
            assertThat(f2.join()).isGreaterThanOrEqualTo(0);
            assertThat(bad.spoiled()).as("every chunk s2 asked of the spoiling peer").isEqualTo(m.chunks());
        }
        List<float[]> staged = new ArrayList<>();
        for (Server s : List.of(s0, s1, s2)) {
            PolicyClient.ServedVersions sv = client(s).versions();
            assertThat(sv.staged()).containsExactly(v);
            assertThat(sv.live()).isEqualTo(v - 1);
            staged.add(client(s).score(PROMPT, COMPLETION, 1.0, v).join());
        }
        assertThat(staged.get(1)).containsExactly(staged.get(0));
        assertThat(staged.get(2)).containsExactly(staged.get(0));
        assertThat(client(s0).score(PROMPT, COMPLETION, 1.0, v - 1).join()).as("the staged weights are the new ones")
                .isNotEqualTo(staged.get(0));
        // activation lets the relayed chunks go: a peer asking now is told they are gone
        client(s1).activate(v);
        HttpResponse<String> gone = send(HttpRequest.newBuilder(url(s1.port()).resolve("/v1/weights/chunks/" + v + "/0"))
                .header("Authorization", "Bearer " + TOKEN).GET());
        assertRefused(gone, 410, "version");
    }

    /**
     * A frozen source (SIGSTOP: it accepts connections and answers nothing) is given up after one poll's silence and
     * not asked again during that fetch: the chain goes on from the next source instead of waiting out a long poll on
     * every chunk.
     */
    @Test
    void aSilentSourceIsSkippedAfterOneUnansweredPoll() throws Exception {
        Server s0 = start(model), s1 = start(model);
        long v = s0.engine().liveVersion() + 1;
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (WeightImage image = image(); ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread accept = new Thread(() -> {
                try {
                    while (true) held.add(frozen.accept()); // read nothing, answer nothing
                } catch (IOException e) {
                    // closed at the end of the test
                }
            });
            accept.setDaemon(true);
            accept.start();
            WeightManifest m = image.manifest(v, CHUNK);
            client(s0).putImage(image, v, false, m);
            long t0 = System.nanoTime();
            client(s1).fetchWeights(m, List.of(url(frozen.getLocalPort()), url(s0.port())), false);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(client(s1).versions().staged()).containsExactly(v);
            assertThat(held).as("the frozen source was asked once, for the first chunk only").hasSize(1);
            // one silent poll (POLL + SILENT = 10 s) and the rest from s0; a long poll per chunk would take minutes
            assertThat(seconds).isLessThan(PeerRelay.POLL.plus(PeerRelay.SILENT).toSeconds() + 30);
        } finally {
            for (Socket s : held) s.close();
        }
        HttpResponse<String> bad = send(HttpRequest.newBuilder(url(s0.port()).resolve("/v1/weights/chunks/" + v + "/0?wait_ms=x"))
                .header("Authorization", "Bearer " + TOKEN).GET());
        assertRefused(bad, 400, "wait_ms");
    }

    @Test
    void aPutWhoseDigestDoesNotMatchIsRefusedAndTheServerKeepsServing() throws Exception {
        Server s = start(model);
        long v = s.engine().liveVersion() + 1;
        try (WeightImage image = image()) {
            WeightManifest m = image.manifest(v, CHUNK);
            String wrong = m.sha256().substring(1) + (m.sha256().charAt(0) == '0' ? '1' : '0');
            for (String[] h : new String[][] {{wrong, "1048576", "X-Vaco-Sha256"}, {"xyz", "1048576", "X-Vaco-Sha256"},
                    {m.sha256(), "5", "X-Vaco-Chunk-Bytes"}}) {
                HttpResponse<String> r = send(HttpRequest.newBuilder(url(s.port()).resolve("/v1/weights?version=" + v + "&activate=false"))
                        .header("Authorization", "Bearer " + TOKEN).header(PolicyClient.SHA256_HEADER, h[0])
                        .header(PolicyClient.CHUNK_BYTES_HEADER, h[1]).PUT(image.publisher()));
                assertRefused(r, 400, h[2]);
            }
            assertThat(client(s).versions().staged()).isEmpty();
            assertThat(client(s).score(PROMPT, COMPLETION, 1.0, null).join()).hasSize(COMPLETION.length);
            // the right digest is taken
            client(s).putImage(image, v, false, m);
            assertThat(client(s).versions().staged()).containsExactly(v);
        }
    }

    @Test
    void chunksThatMatchTheirDigestsButHoldMisShapedTensorsAreRefused() throws Exception {
        Path otherModel = dir.resolve("other");
        // a server of another shape holds the image legitimately, and serves its chunks to a peer it does not fit
        ModelConfig other = new ModelConfig("llama", MathTokenizer.VOCAB_SIZE, 192, 256, 4, 6, 2, 32, 1e-5, 10000.0, 384,
                true, false, -1, MathTokenizer.EOS_ID);
        ModelInit.init(otherModel, other, 5);
        Server holder = start(otherModel), s = start(model);
        long v = s.engine().liveVersion() + 1;
        try (WeightImage image = WeightImage.of(ModelInit.random(other, 7), Integer.MAX_VALUE - 8)) {
            WeightManifest m = image.manifest(v, CHUNK);
            client(holder).putImage(image, v, false, m);
            String body = new JsonObject().put("version", v).put("activate", false)
                    .put("manifest", new JsonObject(m.toJson().toString())).put("sources", new JsonArray().add(url(holder.port()).toString())).encode();
            HttpResponse<String> r = postFetch(s, body, TOKEN);
            assertRefused(r, 400, "body");
            assertThat(new JsonObject(r.body()).getJsonObject("error").getString("message")).contains("shape");
            assertThat(client(s).versions().staged()).isEmpty();
            assertThat(client(s).versions().live()).isEqualTo(v - 1);
        }
    }

    @Test
    void badFetchBodiesAreRefusedNamingTheFieldAndSourcesThatAllFailChangeNothing() throws Exception {
        Server s = start(model);
        long v = s.engine().liveVersion() + 1;
        int deadPort;
        try (ServerSocket free = new ServerSocket(0)) {
            deadPort = free.getLocalPort();
        }
        try (WeightImage image = image()) {
            JsonObject m = new JsonObject(image.manifest(v, CHUNK).toJson().toString());
            JsonArray sources = new JsonArray().add(url(deadPort).toString());
            JsonObject good = new JsonObject().put("version", v).put("activate", false).put("manifest", m).put("sources", sources);
            assertRefused(postFetch(s, good.encode(), null), 401, "Authorization");
            assertRefused(postFetch(s, "{not json", TOKEN), 400, "body");
            assertRefused(postFetch(s, good.copy().put("force", true).encode(), TOKEN), 400, "force");
            JsonObject noVersion = good.copy();
            noVersion.remove("version");
            assertRefused(postFetch(s, noVersion.encode(), TOKEN), 400, "version");
            JsonObject noManifest = good.copy();
            noManifest.remove("manifest");
            assertRefused(postFetch(s, noManifest.encode(), TOKEN), 400, "manifest");
            JsonObject badHex = good.copy();
            badHex.getJsonObject("manifest").getJsonArray("chunk_sha256").set(0, "ZZ");
            assertRefused(postFetch(s, badHex.encode(), TOKEN), 400, "manifest.chunk_sha256[0]");
            JsonObject badWhole = good.copy();
            badWhole.getJsonObject("manifest").put("sha256", 17);
            assertRefused(postFetch(s, badWhole.encode(), TOKEN), 400, "manifest.sha256");
            JsonObject tinyChunks = good.copy();
            tinyChunks.getJsonObject("manifest").put("chunk_bytes", 5);
            assertRefused(postFetch(s, tinyChunks.encode(), TOKEN), 400, "manifest.chunk_bytes");
            JsonObject otherVersion = good.copy();
            otherVersion.getJsonObject("manifest").put("version", v + 1);
            assertRefused(postFetch(s, otherVersion.encode(), TOKEN), 400, "manifest.version");
            assertRefused(postFetch(s, good.copy().put("sources", new JsonArray()).encode(), TOKEN), 400, "sources");
            assertRefused(postFetch(s, good.copy().put("sources", new JsonArray().add("ftp://x")).encode(), TOKEN), 400, "sources");
            JsonObject live = good.copy().put("version", v - 1);
            live.getJsonObject("manifest").put("version", v - 1);
            assertRefused(postFetch(s, live.encode(), TOKEN), 409, "version");
            assertRefused(postFetch(s, good.encode(), TOKEN), 502, "sources"); // nobody listens on the source's port
            assertThat(client(s).versions().staged()).isEmpty();
            assertThatThrownBy(() -> client(s).fetchWeights(image.manifest(v, CHUNK), List.of(url(deadPort)), false))
                    .isInstanceOf(PolicyClient.ServerException.class).hasMessageContaining("502");
        }
        HttpResponse<String> chunk = send(HttpRequest.newBuilder(url(s.port()).resolve("/v1/weights/chunks/x/0"))
                .header("Authorization", "Bearer " + TOKEN).GET());
        assertRefused(chunk, 400, "version");
        assertRefused(send(HttpRequest.newBuilder(url(s.port()).resolve("/v1/weights/chunks/1/0")).GET()), 401, "Authorization");
    }
}
