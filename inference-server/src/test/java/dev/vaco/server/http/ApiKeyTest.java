package dev.vaco.server.http;

import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --api-key} on a real server on loopback: every /v1 route but the weight routes needs the key. */
class ApiKeyTest {
    static final String KEY = "sk-vaco-test-key";
    static final String WEIGHTS_TOKEN = "weights-token";
    static Server server;
    static ModelDir.Loaded model;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("vaco-apikey");
        model = ModelInit.initTiny(dir, 3);
        server = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "tiny", WEIGHTS_TOKEN, 64L << 20).withApiKey(KEY),
                new EngineOptions(8, 8, 3, PolicyOptions.DEFAULT));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static URI base() {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    private static HttpResponse<String> send(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base().resolve(path)).header("content-type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static final List<String[]> V1_ROUTES = List.of(
            new String[] {"GET", "/v1/models", null},
            new String[] {"POST", "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"1+1=\",\"max_tokens\":2}"},
            new String[] {"POST", "/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"},
            new String[] {"POST", "/v1/generate", "{\"prompt_token_ids\":[1,2],\"max_tokens\":2}"},
            new String[] {"POST", "/v1/score", "{\"prompt_token_ids\":[1,2],\"completion_token_ids\":[3]}"});

    @Test
    void everyV1RouteRefusesAMissingOrWrongKeyWith401InOpenAisShapeAndLogsWithoutTheKey() throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        long before = server.metrics().unauthorized.sum();
        try {
            for (String[] r : V1_ROUTES) {
                for (String key : new String[] {null, "sk-wrong-guess"}) {
                    HttpResponse<String> resp = send(r[0], r[1], r[2], key);
                    assertThat(resp.statusCode()).as("%s %s with key %s", r[0], r[1], key).isEqualTo(401);
                    assertThat(resp.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
                    JsonObject e = new JsonObject(resp.body()).getJsonObject("error");
                    assertThat(e.getString("type")).isEqualTo("authentication_error");
                    assertThat(e.getString("message")).contains(key == null ? "didn't provide an API key" : "Incorrect API key");
                    assertThat(e.getString("param")).isEqualTo("Authorization");
                }
            }
        } finally {
            System.setErr(err);
        }
        assertThat(server.metrics().unauthorized.sum() - before).isEqualTo(2L * V1_ROUTES.size());
        String lines = log.toString(StandardCharsets.UTF_8);
        assertThat(lines.lines().filter(l -> l.contains("401 for"))).hasSize(2 * V1_ROUTES.size());
        assertThat(lines).contains("401 for POST /v1/generate").doesNotContain("sk-wrong-guess").doesNotContain(KEY);

        // the server kept serving: the right key gets through on the same routes
        for (String[] r : V1_ROUTES) {
            assertThat(send(r[0], r[1], r[2], KEY).statusCode()).as("%s %s", r[0], r[1]).isEqualTo(200);
        }
    }

    @Test
    void probesStayOpenAndTheWeightRoutesKeepTheirOwnToken() throws Exception {
        assertThat(send("GET", "/health", null, null).statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = send("GET", "/metrics", null, null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("vaco_unauthorized_requests_total");
        assertThat(send("GET", "/v1/weights/version", null, null).statusCode()).isEqualTo(200);
        // the API key is not the weights token: a push with it is refused by the weight route's own check
        HttpResponse<String> push = send("PUT", "/v1/weights?version=9", "x", KEY);
        assertThat(push.statusCode()).isEqualTo(401);
        assertThat(push.body()).contains("PUT /v1/weights needs");
    }

    @Test
    void aWrongWeightsTokenCannotPushOrActivateAndTheServerKeepsServing() throws Exception {
        long live = server.engine().liveVersion();
        String v = Long.toString(live + 1);
        List<HttpResponse<String>> refused = List.of(
                send("PUT", "/v1/weights?version=" + v, "not even weights", "wrong-token"),
                send("PUT", "/v1/weights?version=" + v + "&activate=false", "not even weights", null),
                send("POST", "/v1/weights/activate", "{\"version\": " + v + "}", "wrong-token"),
                send("POST", "/v1/weights/activate", "{\"version\": " + live + "}", KEY));
        for (HttpResponse<String> r : refused) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            JsonObject e = new JsonObject(r.body()).getJsonObject("error");
            assertThat(e.getString("type")).isEqualTo("authentication_error");
            assertThat(e.getString("param")).isEqualTo("Authorization");
        }
        assertThat(server.engine().liveVersion()).isEqualTo(live);
        assertThat(server.engine().residentVersions()).doesNotContain(live + 1);
        // still serving, and the holder of the token can still push
        assertThat(send("POST", "/v1/generate", V1_ROUTES.get(3)[2], KEY).statusCode()).isEqualTo(200);
        try (PolicyClient owner = new PolicyClient(base(), WEIGHTS_TOKEN, KEY)) {
            owner.pushWeights(model.weights(), live + 1);
            assertThat(owner.liveVersion()).isEqualTo(live + 1);
        }
    }

    @Test
    void policyClientSendsTheKeyAndOnlyTheKeyHolderSamples() throws Exception {
        var req = new PolicyClient.GenerateRequest(new int[] {1, 2, 3}, 2, 1.0, 1.0, 0, 4, List.of(), 7L, null, false);
        try (PolicyClient with = new PolicyClient(base(), WEIGHTS_TOKEN, KEY);
             PolicyClient without = new PolicyClient(base(), WEIGHTS_TOKEN)) {
            PolicyClient.GenerateResponse g = with.generate(req).join();
            assertThat(g.samples()).hasSize(2);
            assertThat(with.score(new int[] {1, 2, 3}, g.samples().get(0).tokenIds(), 1.0, null).join())
                    .hasSize(g.samples().get(0).tokenIds().length);
            assertThat(with.contextLength()).isPositive();
            assertThat(with.healthy()).isTrue();
            // weight routes: the weights token, not the key
            long live = with.liveVersion();
            with.pushWeights(model.weights(), live + 1);
            assertThat(with.liveVersion()).isEqualTo(live + 1);

            assertThatThrownBy(() -> without.generate(req).join()).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(PolicyClient.ServerException.class)
                    .satisfies(e -> assertThat(((PolicyClient.ServerException) e).status).isEqualTo(401));
            assertThatThrownBy(without::contextLength).isInstanceOf(PolicyClient.ServerException.class);
        }
    }
}
