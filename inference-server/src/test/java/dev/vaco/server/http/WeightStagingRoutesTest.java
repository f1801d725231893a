package dev.vaco.server.http;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** PUT /v1/weights?activate=false, /v1/weights/activate and /v1/weights/drop on a real server on loopback. */
class WeightStagingRoutesTest {
    static final String TOKEN = "stage-token";
    final HttpClient http = HttpClient.newHttpClient();
    @TempDir Path dir;
    Server server;

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder at(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    }

    private HttpResponse<String> put(String query, byte[] body) throws Exception {
        return send(at("/v1/weights?" + query).header("Authorization", "Bearer " + TOKEN).PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    private HttpResponse<String> post(String path, String body, String token) throws Exception {
        HttpRequest.Builder b = at(path).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return send(b);
    }

    private JsonObject versions() throws Exception {
        return new JsonObject(send(at("/v1/weights/version").GET()).body());
    }

    private List<Object> sampledVersions(String extra) throws Exception {
        HttpResponse<String> r = post("/v1/generate", "{\"prompt\": \"7*8=\", \"max_tokens\": 8, \"seed\": 3, \"ignore_eos\": true"
                + extra + "}", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new JsonObject(r.body()).getJsonArray("samples").getJsonObject(0).getJsonArray("policy_versions").getList();
    }

    static void assertRefused(HttpResponse<String> r, int status, String param) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonObject err = new JsonObject(r.body()).getJsonObject("error");
        assertThat(err.getString("param")).as(r.body()).isEqualTo(param);
        assertThat(err.getString("message")).isNotBlank();
    }

    @Test
    void stagedVersionsAreScoredNotSampledAndEveryBadInputIsRefusedNamingTheField() throws Exception {
        ModelConfig config = ModelInit.initTiny(dir, 3).config();
        server = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "tiny", TOKEN, 64L << 20),
                new EngineOptions(8, 8, 2, PolicyOptions.DEFAULT));
        try {
            ByteBuffer image = Safetensors.toBytes(ModelInit.random(config, 42).tensors(), Map.of(), Safetensors.DType.F32);
            byte[] weights = new byte[image.remaining()];
            image.get(weights);
            long v0 = server.engine().liveVersion();

            assertRefused(put("version=" + (v0 + 1) + "&activate=maybe", weights), 400, "activate");
            HttpResponse<String> staged = put("version=" + (v0 + 1) + "&activate=false", weights);
            assertThat(staged.statusCode()).as(staged.body()).isEqualTo(200);
            assertThat(new JsonObject(staged.body()).getBoolean("live")).isFalse();
            JsonObject vs = versions();
            assertThat(vs.getLong("version")).isEqualTo(v0);
            assertThat(vs.getJsonArray("staged").getList()).containsExactly((int) (v0 + 1));
            assertThat(sampledVersions("")).containsOnly((int) v0);

            // the canary's route works pinned to it; generation pinned to it is refused
            HttpResponse<String> score = post("/v1/score", "{\"prompt_token_ids\": [5, 6], \"completion_token_ids\": [7, 8],"
                    + " \"policy_version\": " + (v0 + 1) + "}", null);
            assertThat(score.statusCode()).as(score.body()).isEqualTo(200);
            assertRefused(post("/v1/generate", "{\"prompt\": \"1\", \"max_tokens\": 2, \"policy_version\": " + (v0 + 1) + "}", null),
                    409, "policy_version");

            Map<String, Object[]> bad = new LinkedHashMap<>(); // body -> {status, param}
            bad.put("{not json", new Object[] {400, "body"});
            bad.put("[1]", new Object[] {400, "body"});
            bad.put("{}", new Object[] {400, "version"});
            bad.put("{\"version\": \"two\"}", new Object[] {400, "version"});
            bad.put("{\"version\": 1.5}", new Object[] {400, "version"});
            bad.put("{\"version\": " + (v0 + 1) + ", \"force\": true}", new Object[] {400, "force"});
            bad.put("{\"version\": 999}", new Object[] {404, "version"});
            for (String route : List.of("/v1/weights/activate", "/v1/weights/drop")) {
                for (var c : bad.entrySet()) {
                    assertRefused(post(route, c.getKey(), TOKEN), (int) c.getValue()[0], (String) c.getValue()[1]);
                }
                assertRefused(post(route, "{\"version\": " + (v0 + 1) + "}", null), 401, "Authorization");
                assertRefused(post(route, "{\"version\": " + (v0 + 1) + "}", "wrong"), 401, "Authorization");
            }
            assertRefused(post("/v1/weights/drop", "{\"version\": " + v0 + "}", TOKEN), 409, "version"); // the live one
            assertRefused(post("/v1/weights/rollback", "{\"version\": " + (v0 + 1) + "}", TOKEN), 409, "version");
            // at most K (2) staged: a third is refused before its body is built into a session
            assertThat(put("version=" + (v0 + 2) + "&activate=false", weights).statusCode()).isEqualTo(200);
            assertRefused(put("version=" + (v0 + 3) + "&activate=false", weights), 409, "version");

            assertThat(post("/v1/weights/drop", "{\"version\": " + (v0 + 2) + "}", TOKEN).statusCode()).isEqualTo(200);
            assertThat(post("/v1/weights/drop", "{\"version\": " + (v0 + 2) + "}", TOKEN).statusCode()).isEqualTo(200);
            assertRefused(post("/v1/weights/activate", "{\"version\": " + (v0 + 2) + "}", TOKEN), 409, "version");
            assertThat(sampledVersions("")).containsOnly((int) v0); // everything above left the live version alone

            HttpResponse<String> act = post("/v1/weights/activate", "{\"version\": " + (v0 + 1) + "}", TOKEN);
            assertThat(act.statusCode()).as(act.body()).isEqualTo(200);
            assertThat(post("/v1/weights/activate", "{\"version\": " + (v0 + 1) + "}", TOKEN).statusCode()).isEqualTo(200);
            vs = versions();
            assertThat(vs.getLong("version")).isEqualTo(v0 + 1);
            assertThat(vs.getJsonArray("staged")).isEmpty();
            assertThat(vs.getJsonArray("dropped").getList()).containsExactly((int) (v0 + 2));
            assertThat(sampledVersions("")).containsOnly((int) (v0 + 1));
            // a trainer that starts or resumes numbers its versions above every number the server has used
            try (PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + server.port()), TOKEN)) {
                PolicyClient.ServedVersions sv = c.versions();
                assertThat(sv.live()).isEqualTo(v0 + 1);
                assertThat(sv.highest()).as("the dropped number above the live one is used up").isEqualTo(v0 + 2);
            }
            String metrics = send(at("/metrics").GET()).body();
            assertThat(metrics).contains("vaco_weight_staged_total 2", "vaco_weight_activations_total 1",
                    "vaco_weight_drops_total 1", "vaco_staged_versions 0");
            assertThat(metrics).doesNotContain("version=\"" + (v0 + 2) + "\"");
        } finally {
            server.close();
        }
    }
}
