package dev.vaco.server.http;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.GraphOptions;
import dev.vaco.server.engine.RandomAdapters;
import dev.vaco.server.engine.PolicyOptions;
import io.vertx.core.json.JsonArray;
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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server with LoRA inputs on loopback: named adapters picked by {@code model} next to the base, listed by
 * /v1/models with the base as parent; a {@code model} the server does not hold is 404 with OpenAI's error body on every
 * route; an adapter pushed as PEFT-named tensors becomes a version (no new session) that scores exactly as the same
 * adapter served by name; a server without LoRA inputs refuses adapter pushes.
 */
public class LoraServingTest {
    static final String TOKEN = "lora-token";
    static final LoraConfig ALL = new LoraConfig(4, 8, 0.0, LoraConfig.ALL_LINEAR, false, false);
    final HttpClient http = HttpClient.newHttpClient();
    @TempDir Path dir;
    Server server;

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> put(String query, Map<String, Tensor> tensors) throws Exception {
        ByteBuffer image = Safetensors.toBytes(tensors.values(), Map.of(), Safetensors.DType.F32);
        byte[] b = new byte[image.remaining()];
        image.get(b);
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/weights?" + query))
                .header("Authorization", "Bearer " + TOKEN).PUT(HttpRequest.BodyPublishers.ofByteArray(b)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonArray score(String extra) throws Exception {
        HttpResponse<String> r = post("/v1/score", "{\"prompt_token_ids\": [1, 2, 3, 4], \"completion_token_ids\": [5, 6, 7, 8]"
                + extra + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new JsonObject(r.body()).getJsonArray("logprobs");
    }

    private static double maxDiff(JsonArray a, JsonArray b) {
        double d = 0;
        for (int i = 0; i < a.size(); i++) d = Math.max(d, Math.abs(a.getDouble(i) - b.getDouble(i)));
        return d;
    }

    private Server start(int loraRank) {
        return Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "tiny", TOKEN, 64L << 20),
                new EngineOptions(8, 8, 4, PolicyOptions.DEFAULT.withGraph(GraphOptions.DEFAULT.withLoraRank(loraRank))));
    }

    @Test
    void namedAdaptersAdapterPushesAndTheUnknownModel404() throws Exception {
        ModelConfig config = ModelInit.initTiny(dir, 3).config();
        server = start(8);
        try {
            Map<String, Tensor> adapter = RandomAdapters.of(config, ALL, 5);
            server.engine().lora().load("sql", ALL, adapter);

            JsonArray models = new JsonObject(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString()).body()).getJsonArray("data");
            assertThat(models.size()).isEqualTo(2);
            assertThat(models.getJsonObject(0).getString("id")).isEqualTo("tiny");
            assertThat(models.getJsonObject(0).getInteger("max_lora_rank")).isEqualTo(8);
            assertThat(models.getJsonObject(1).getString("id")).isEqualTo("sql");
            assertThat(models.getJsonObject(1).getString("parent")).isEqualTo("tiny");

            for (String[] route : new String[][] {{"/v1/completions", "\"prompt\": \"7*8=\", \"max_tokens\": 2"},
                    {"/v1/generate", "\"prompt\": \"7*8=\", \"max_tokens\": 2"},
                    {"/v1/score", "\"prompt_token_ids\": [1], \"completion_token_ids\": [2]"}}) {
                HttpResponse<String> r = post(route[0], "{\"model\": \"gpt-4o\", " + route[1] + "}");
                assertThat(r.statusCode()).as(route[0] + " " + r.body()).isEqualTo(404);
                JsonObject err = new JsonObject(r.body()).getJsonObject("error");
                assertThat(err.getString("message")).isEqualTo("The model `gpt-4o` does not exist.");
                assertThat(err.getString("type")).isEqualTo("NotFoundError");
                assertThat(err.getString("param")).isEqualTo("model");
                assertThat(err.getString("code")).isEqualTo("model_not_found");
            }

            JsonArray base = score(""), named = score(", \"model\": \"tiny\""), sql = score(", \"model\": \"sql\"");
            assertThat(maxDiff(base, named)).as("the served name is the base").isZero();
            assertThat(maxDiff(base, sql)).as("the adapter changes the log-probs").isGreaterThan(1e-3);
            HttpResponse<String> g = post("/v1/completions", "{\"model\": \"sql\", \"prompt\": \"7*8=\", \"max_tokens\": 4}");
            assertThat(g.statusCode()).as(g.body()).isEqualTo(200);
            WeightStagingRoutesTest.assertRefused(post("/v1/generate", "{\"model\": \"sql\", \"prompt\": \"7\", "
                    + "\"max_tokens\": 2, \"policy_version\": 0}"), 400, "policy_version");

            // the same adapter pushed as a version (PEFT's names, alpha given): staged, scored, activated
            HttpResponse<String> p = put("version=1&activate=false&lora_alpha=8", adapter);
            assertThat(p.statusCode()).as(p.body()).isEqualTo(200);
            assertThat(maxDiff(score(", \"policy_version\": 1"), sql)).as("version 1 = base + the adapter").isZero();
            assertThat(post("/v1/weights/activate", "{\"version\": 1}").statusCode()).isEqualTo(401); // token needed
            // B carrying the scaling (what vaco's trainer pushes, no lora_alpha): the same model
            Map<String, Tensor> scaled = new LinkedHashMap<>();
            adapter.forEach((n, t) -> {
                float[] v = t.toArray();
                if (n.contains("lora_B")) for (int i = 0; i < v.length; i++) v[i] *= (float) ALL.scaling();
                scaled.put(n, Tensor.of(n, t.shape(), v));
            });
            p = put("version=2", scaled);
            assertThat(p.statusCode()).as(p.body()).isEqualTo(200);
            assertThat(server.engine().liveVersion()).isEqualTo(2);
            assertThat(maxDiff(score(""), sql)).as("live version 2 = base + the adapter").isLessThan(1e-5);

            Map<String, Tensor> bad = new LinkedHashMap<>(adapter);
            bad.remove(LoraTarget.Q_PROJ.peftName(0, "B"));
            WeightStagingRoutesTest.assertRefused(put("version=3&format=peft-lora", bad), 400, "body");
            Map<String, Tensor> tooWide = RandomAdapters.of(config, new LoraConfig(16, 16, 0.0, "q_proj", false, false), 6);
            WeightStagingRoutesTest.assertRefused(put("version=4", tooWide), 400, "body");
        } finally {
            server.close();
        }
    }

    private HttpResponse<String> postWithToken(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Authorization", "Bearer " + TOKEN).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void adaptersLoadAndUnloadAtRunTimeAsVllmsRoutesDo() throws Exception {
        ModelConfig config = ModelInit.initTiny(dir, 3).config();
        Map<String, Tensor> adapter = RandomAdapters.of(config, ALL, 11);
        Path sqlDir = dir.resolve("sql-adapter");
        AdapterFiles.write(sqlDir, new AdapterFiles.Adapter(ALL, dir.toString(), adapter));
        server = start(8);
        try {
            server.engine().lora().load("reference", ALL, adapter); // the same adapter served from startup: the oracle
            String load = "{\"lora_name\": \"sql\", \"lora_path\": \"" + sqlDir + "\"}";
            assertThat(post("/v1/load_lora_adapter", load).statusCode()).as("the weights token is needed").isEqualTo(401);
            assertThat(post("/v1/completions", "{\"model\": \"sql\", \"prompt\": \"7\", \"max_tokens\": 2}").statusCode())
                    .isEqualTo(404);

            HttpResponse<String> ok = postWithToken("/v1/load_lora_adapter", load);
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(ok.body()).isEqualTo("Success: LoRA adapter 'sql' added successfully.");
            assertThat(server.engine().lora().names()).containsExactly("reference", "sql");
            assertThat(maxDiff(score(", \"model\": \"sql\""), score(", \"model\": \"reference\""))).isZero();
            assertThat(maxDiff(score(", \"model\": \"sql\""), score(""))).isGreaterThan(1e-3);

            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter", load), 400, "lora_name");
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter",
                    "{\"lora_name\": \"tiny\", \"lora_path\": \"" + sqlDir + "\"}"), 400, "lora_name");
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter",
                    "{\"lora_name\": \"x\", \"lora_path\": \"" + dir.resolve("nowhere") + "\"}"), 400, "lora_path");
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter",
                    "{\"lora_name\": \"x\", \"lora_path\": \"" + dir + "\"}"), 400, "lora_path"); // not an adapter
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter", "{\"lora_path\": \"" + sqlDir + "\"}"),
                    400, "lora_name");
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter", "{\"lora_name\": 5}"), 400, "lora_name");
            Path wide = dir.resolve("wide-adapter");
            LoraConfig r16 = new LoraConfig(16, 16, 0.0, "q_proj", false, false);
            AdapterFiles.write(wide, new AdapterFiles.Adapter(r16, dir.toString(), RandomAdapters.of(config, r16, 12)));
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/load_lora_adapter",
                    "{\"lora_name\": \"wide\", \"lora_path\": \"" + wide + "\"}"), 400, "lora_path"); // rank 16 > 8
            assertThat(server.engine().lora().names()).containsExactly("reference", "sql");

            // unloading while a long generation runs on the adapter: it finishes there; new requests get 404
            var running = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/generate"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"sql\", \"prompt\": \"7\", \"max_tokens\": 300, "
                            + "\"ignore_eos\": true, \"seed\": 1}")).build(), HttpResponse.BodyHandlers.ofString());
            while (server.metrics().runningRows.get() == 0 && !running.isDone()) Thread.sleep(2);
            HttpResponse<String> gone = postWithToken("/v1/unload_lora_adapter", "{\"lora_name\": \"sql\"}");
            assertThat(gone.statusCode()).as(gone.body()).isEqualTo(200);
            assertThat(gone.body()).isEqualTo("Success: LoRA adapter 'sql' removed successfully.");
            assertThat(running.isDone()).as("the generation still ran when its adapter was unloaded").isFalse();
            WeightStagingRoutesTest.assertRefused(post("/v1/generate", "{\"model\": \"sql\", \"prompt\": \"7\", \"max_tokens\": 2}"),
                    404, "model");
            HttpResponse<String> finished = running.get();
            assertThat(finished.statusCode()).as(finished.body()).isEqualTo(200);
            assertThat(new JsonObject(finished.body()).getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids").size())
                    .isEqualTo(300);
            WeightStagingRoutesTest.assertRefused(postWithToken("/v1/unload_lora_adapter", "{\"lora_name\": \"sql\"}"),
                    404, "lora_name");
            // loaded again under the same name after the unload: served as before
            assertThat(postWithToken("/v1/load_lora_adapter", load).statusCode()).isEqualTo(200);
            assertThat(maxDiff(score(", \"model\": \"sql\""), score(", \"model\": \"reference\""))).isZero();
        } finally {
            server.close();
        }
    }

    @Test
    void aServerWithoutLoraInputsRefusesAdapterPushes() throws Exception {
        ModelConfig config = ModelInit.initTiny(dir, 3).config();
        server = start(0);
        try {
            HttpResponse<String> p = put("version=1", RandomAdapters.of(config, ALL, 7));
            WeightStagingRoutesTest.assertRefused(p, 400, "format");
            assertThat(p.body()).contains("--enable-lora");
            Path ad = dir.resolve("adapter");
            AdapterFiles.write(ad, new AdapterFiles.Adapter(ALL, dir.toString(), RandomAdapters.of(config, ALL, 8)));
            HttpResponse<String> l = postWithToken("/v1/load_lora_adapter", "{\"lora_name\": \"a\", \"lora_path\": \"" + ad + "\"}");
            WeightStagingRoutesTest.assertRefused(l, 400, "lora_name");
            assertThat(l.body()).contains("--enable-lora");
        } finally {
            server.close();
        }
    }
}
