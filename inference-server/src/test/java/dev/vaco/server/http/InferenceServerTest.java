package dev.vaco.server.http;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A real server on loopback: real Vert.x, real ORT session, real HTTP. */
class InferenceServerTest {
    static final String TOKEN = "test-token";
    static Server server;
    static Path dir;
    static ModelConfig config;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("vaco-server");
        config = ModelInit.initTiny(dir, 3).config();
        server = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "tiny", TOKEN, 64L << 20),
                new EngineOptions(8, 4, 3, PolicyOptions.DEFAULT));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("content-type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> postBytes(String path, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> putWeights(long version, byte[] body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/weights?version=" + version))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject generate(String body) throws Exception {
        HttpResponse<String> r = post("/v1/generate", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new JsonObject(r.body());
    }

    @Test
    void generateReturnsTokensLogprobsAndVersionsThatTheScoreRouteConfirms() throws Exception {
        JsonObject g = generate("{\"prompt\": \"What is 2+3?\", \"n\": 2, \"max_tokens\": 24, \"temperature\": 0.9, \"seed\": 4, \"ignore_eos\": true}");
        assertThat(g.getJsonArray("samples")).hasSize(2);
        JsonArray prompt = g.getJsonArray("prompt_token_ids");
        assertThat(prompt).hasSize("What is 2+3?".length());
        for (Object o : g.getJsonArray("samples")) {
            JsonObject s = (JsonObject) o;
            JsonArray ids = s.getJsonArray("token_ids"), lps = s.getJsonArray("logprobs"), vs = s.getJsonArray("policy_versions");
            assertThat(ids).hasSize(24);
            assertThat(lps).hasSize(24);
            assertThat(vs.getList()).containsOnly(server.engine().liveVersion() == 0 ? 0 : (int) server.engine().liveVersion());
            JsonObject score = new JsonObject(post("/v1/score", new JsonObject().put("prompt_token_ids", prompt)
                    .put("completion_token_ids", ids).put("temperature", 0.9).encode()).body());
            JsonArray scored = score.getJsonArray("logprobs");
            for (int t = 0; t < ids.size(); t++) assertThat(lps.getDouble(t)).isCloseTo(scored.getDouble(t), within(1e-4));
        }
        JsonObject again = generate("{\"prompt\": \"What is 2+3?\", \"n\": 2, \"max_tokens\": 24, \"temperature\": 0.9, \"seed\": 4, \"ignore_eos\": true}");
        assertThat(again.getJsonArray("samples")).isEqualTo(g.getJsonArray("samples"));
    }

    @Test
    void everyBadInputGetsA4xxNamingTheFieldAndTheServerKeepsServing() throws Exception {
        String longPrompt = "1".repeat(config.maxPositionEmbeddings() + 5);
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("{not json", "body");
        cases.put("[1,2]", "body");
        cases.put("{\"prompt\": 5}", "prompt");
        cases.put("{\"prompt\": \"x\", \"temperature\": -1}", "temperature");
        cases.put("{\"prompt\": \"x\", \"temperature\": \"NaN\"}", "temperature");
        cases.put("{\"prompt\": \"x\", \"top_p\": 0}", "top_p");
        cases.put("{\"prompt\": \"x\", \"n\": 0}", "n");
        cases.put("{\"prompt\": \"x\", \"max_tokens\": 100000}", "max_tokens");
        cases.put("{\"prompt\": \"x\", \"temprature\": 1}", "temprature");
        cases.put("{\"prompt\": \"" + longPrompt + "\"}", "prompt");
        cases.put("{\"prompt_token_ids\": [1, 2, 999999]}", "prompt_token_ids");
        cases.put("{\"prompt_token_ids\": [1.5]}", "prompt_token_ids");
        cases.put("{\"prompt\": \"x\", \"prompt_token_ids\": [5]}", "prompt");
        cases.put("{\"prompt\": \"x\", \"policy_version\": 77}", "policy_version");
        cases.put("{\"prompt\": \"x\", \"seed\": 1e300}", "seed");
        cases.put("{\"prompt\": \"x\", \"stop\": [1]}", "stop");
        for (var c : cases.entrySet()) {
            HttpResponse<String> r = post("/v1/generate", c.getKey());
            assertThat(r.statusCode()).as(c.getKey()).isEqualTo(400);
            JsonObject err = new JsonObject(r.body()).getJsonObject("error");
            assertThat(err.getString("param")).as(c.getKey()).isEqualTo(c.getValue());
            assertThat(err.getString("message")).isNotBlank();
        }
        byte[] badUtf8 = {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        HttpResponse<String> r = postBytes("/v1/generate", badUtf8);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("UTF-8");
        HttpResponse<String> chat = post("/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}");
        assertThat(chat.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(chat.body()).getJsonObject("error").getString("param")).isEqualTo("messages[0].role");
        HttpResponse<String> pen = post("/v1/completions", "{\"prompt\": \"x\", \"frequency_penalty\": 0.5}");
        assertThat(new JsonObject(pen.body()).getJsonObject("error").getString("param")).isEqualTo("frequency_penalty");
        assertThat(get("/v1/nothing").statusCode()).isEqualTo(404);
        // still serving
        assertThat(generate("{\"prompt\": \"1+1=\", \"max_tokens\": 3}").getJsonArray("samples")).hasSize(1);
    }

    @Test
    void weightPushesAreValidatedAndABadOneLeavesOutputsBitIdentical() throws Exception {
        String req = "{\"prompt\": \"Tom has 5 apples\", \"max_tokens\": 30, \"temperature\": 1.0, \"seed\": 9, \"ignore_eos\": true}";
        JsonObject before = generate(req);
        long v0 = server.engine().liveVersion();
        ByteBuffer good = Safetensors.toBytes(ModelInit.random(config, 42).tensors(), Map.of(), Safetensors.DType.F32);
        byte[] goodBytes = new byte[good.remaining()];
        good.get(goodBytes);

        assertThat(putWeights(v0 + 1, goodBytes, null).statusCode()).isEqualTo(401);
        assertThat(putWeights(v0 + 1, goodBytes, "wrong").statusCode()).isEqualTo(401);
        HttpResponse<String> truncated = putWeights(v0 + 1, Arrays.copyOf(goodBytes, goodBytes.length / 2), TOKEN);
        assertThat(truncated.statusCode()).isEqualTo(400);
        assertThat(truncated.body()).contains("weight upload");
        HttpResponse<String> garbage = putWeights(v0 + 1, "hello world, not safetensors".getBytes(), TOKEN);
        assertThat(garbage.statusCode()).isEqualTo(400);
        List<Tensor> misShaped = new ArrayList<>();
        for (Tensor t : ModelInit.random(config, 42).tensors()) {
            misShaped.add(t.name().equals("model.norm.weight") ? Tensor.zeros(t.name(), 191) : t);
        }
        ByteBuffer ms = Safetensors.toBytes(misShaped, Map.of(), Safetensors.DType.F32);
        byte[] msBytes = new byte[ms.remaining()];
        ms.get(msBytes);
        HttpResponse<String> shaped = putWeights(v0 + 1, msBytes, TOKEN);
        assertThat(shaped.statusCode()).isEqualTo(400);
        assertThat(shaped.body()).contains("model.norm.weight").contains("expected [192]");
        HttpResponse<String> noVersion = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/weights"))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(goodBytes)).header("Authorization", "Bearer " + TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(noVersion.statusCode()).isEqualTo(400);

        assertThat(server.engine().liveVersion()).isEqualTo(v0);
        assertThat(generate(req).getJsonArray("samples")).isEqualTo(before.getJsonArray("samples")); // bit-identical

        HttpResponse<String> ok = putWeights(v0 + 1, goodBytes, TOKEN);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(new JsonObject(ok.body()).getDouble("swap_seconds")).isLessThan(0.5);
        assertThat(new JsonObject(get("/v1/weights/version").body()).getLong("version")).isEqualTo(v0 + 1);
        JsonObject after = generate(req);
        assertThat(after.getJsonArray("samples").getJsonObject(0).getJsonArray("policy_versions").getList()).containsOnly((int) (v0 + 1));
        assertThat(after.getJsonArray("samples")).isNotEqualTo(before.getJsonArray("samples"));
        assertThat(putWeights(v0 + 1, goodBytes, TOKEN).statusCode()).isEqualTo(409);
        // the old version is still resident and can be pinned: exactly the old outputs
        JsonObject pinned = generate(req.replace("}", ", \"policy_version\": " + v0 + "}"));
        assertThat(pinned.getJsonArray("samples")).isEqualTo(before.getJsonArray("samples"));
        // an upload without Content-Length (chunked transfer) takes the aggregating path and works the same
        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/v1/weights?version=" + (v0 + 2))).header("Authorization", "Bearer " + TOKEN)
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(msBytes))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).isEqualTo(400);
        assertThat(chunked.body()).contains("model.norm.weight");
        chunked = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/v1/weights?version=" + (v0 + 2))).header("Authorization", "Bearer " + TOKEN)
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(goodBytes))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).as(chunked.body()).isEqualTo(200);
        assertThat(server.engine().liveVersion()).isEqualTo(v0 + 2);
    }

    @Test
    void operationsEndpointsAnswer() throws Exception {
        generate("{\"prompt\": \"7*8=\", \"max_tokens\": 4}");
        assertThat(new JsonObject(get("/health").body()).getString("status")).isEqualTo("ok");
        String metrics = get("/metrics").body();
        assertThat(metrics).contains("vaco_queue_depth", "vaco_running_batch_size", "vaco_generation_tokens_total",
                "vaco_time_to_first_token_seconds_bucket", "vaco_generation_tokens_by_version_total{version=",
                "vaco_weight_updates_total", "vaco_weight_update_seconds_total");
        JsonObject models = new JsonObject(get("/v1/models").body());
        assertThat(models.getJsonArray("data").getJsonObject(0).getString("id")).isEqualTo("tiny");
    }

    @Test
    void streamingCompletionsConcatenateToTheNonStreamedText() throws Exception {
        String body = "{\"prompt\": \"12+30=\", \"max_tokens\": 40, \"seed\": 3, \"stop\": [\"zz\"], \"return_token_ids\": true}";
        JsonObject whole = new JsonObject(post("/v1/completions", body).body());
        String text = whole.getJsonArray("choices").getJsonObject(0).getString("text");
        HttpResponse<String> sse = post("/v1/completions", body.replace("}", ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}"));
        assertThat(sse.headers().firstValue("content-type")).hasValue("text/event-stream");
        StringBuilder streamed = new StringBuilder();
        JsonArray ids = new JsonArray();
        boolean done = false, usage = false;
        for (String line : sse.body().split("\n")) {
            if (!line.startsWith("data: ")) continue;
            String data = line.substring(6);
            if (data.equals("[DONE]")) { done = true; continue; }
            JsonObject chunk = new JsonObject(data);
            if (chunk.containsKey("usage")) { usage = true; continue; }
            JsonObject c = chunk.getJsonArray("choices").getJsonObject(0);
            streamed.append(c.getString("text"));
            if (c.getJsonArray("token_ids") != null) ids.addAll(c.getJsonArray("token_ids"));
        }
        assertThat(done).isTrue();
        assertThat(usage).isTrue();
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(ids).isEqualTo(whole.getJsonArray("choices").getJsonObject(0).getJsonArray("token_ids"));
    }

    @Test
    void chatCompletionsUseTheModelsChatTemplate() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 2+2?\"}], "
                + "\"max_tokens\": 10, \"seed\": 1, \"logprobs\": true, \"top_logprobs\": 2, \"return_token_ids\": true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonObject o = new JsonObject(r.body());
        // ChatML: <|im_start|> user \n (6) + "What is 2+2?" (12) + <|im_end|> \n (2) + <|im_start|> assistant \n (11)
        assertThat(o.getJsonArray("prompt_token_ids")).hasSize(6 + 12 + 2 + 11);
        JsonObject choice = o.getJsonArray("choices").getJsonObject(0);
        assertThat(choice.getJsonObject("message").getString("role")).isEqualTo("assistant");
        assertThat(choice.getJsonObject("logprobs").getJsonArray("content").getJsonObject(0).getJsonArray("top_logprobs")).hasSize(2);
        assertThat(o.getJsonObject("usage").getInteger("prompt_tokens")).isEqualTo(o.getJsonArray("prompt_token_ids").size());
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            fs.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/generate"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"1\", \"n\": 8, \"max_tokens\": 200, \"ignore_eos\": true}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0, limited = 0;
        for (var f : fs) {
            HttpResponse<String> r = f.get();
            if (r.statusCode() == 200) ok++;
            if (r.statusCode() == 429) {
                limited++;
                assertThat(r.headers().firstValue("Retry-After")).isPresent();
            }
        }
        assertThat(limited).isGreaterThan(0);
        assertThat(ok).isGreaterThan(0);
        assertThat(ok + limited).isEqualTo(24);
    }
}
