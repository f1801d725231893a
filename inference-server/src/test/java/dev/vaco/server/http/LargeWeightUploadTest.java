package dev.vaco.server.http;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Weight pushes too large for one Java array (over 2 GB: an fp32 model of ~0.5B parameters, e.g. Qwen2.5-1.5B) go
 * through files on both sides: the client writes the safetensors image to a temporary file and sends it from there,
 * the server spools the body to a temporary file and parses it from there. The thresholds are lowered here so that
 * the tiny model takes those paths; what must hold is what holds for in-memory pushes.
 */
class LargeWeightUploadTest {
    static final String TOKEN = "t";
    static final HttpClient http = HttpClient.newHttpClient();
    static final String REQ = "{\"prompt\": \"Tom has 5 apples\", \"max_tokens\": 24, \"temperature\": 1.0, \"seed\": 4, \"ignore_eos\": true}";

    @TempDir Path dir;

    private static Server start(Path model, long inMemoryUploadMax) {
        return Server.start(model, new InferenceServer.Settings("127.0.0.1", 0, "tiny", TOKEN, 64L << 20, inMemoryUploadMax),
                new EngineOptions(8, 4, 3, PolicyOptions.DEFAULT.withThreads(1)));
    }

    private static JsonObject generate(Server s) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/generate"))
                .POST(HttpRequest.BodyPublishers.ofString(REQ)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return new JsonObject(r.body());
    }

    private static HttpResponse<String> put(Server s, long version, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/weights?version=" + version))
                .header("Authorization", "Bearer " + TOKEN).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] image(java.util.Collection<Tensor> tensors) {
        ByteBuffer image = Safetensors.toBytes(tensors, Map.of(), Safetensors.DType.F32);
        byte[] bytes = new byte[image.remaining()];
        image.get(bytes);
        return bytes;
    }

    /** The weights with model.norm.weight one element short: a push the server must refuse naming it. */
    private static List<Tensor> misShapedNorm(Weights w) {
        return w.tensors().stream().map(t -> t.name().equals("model.norm.weight") ? Tensor.zeros(t.name(), 191) : t).toList();
    }

    private static long spooled() throws Exception {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("vaco-upload-")
                    || p.getFileName().toString().startsWith("vaco-push-")).count();
        }
    }

    @Test
    void pushesThroughFilesOnBothSidesServeExactlyTheWeightsOfAModelDirectory() throws Exception {
        Path model = dir.resolve("model");
        ModelConfig config = ModelInit.initTiny(model, 3).config();
        Weights pushed = ModelInit.random(config, 42);
        Path reference = dir.resolve("reference"); // the same weights, loaded from a directory: the oracle
        ModelDir.save(reference, config, pushed);
        ModelDir.copyTokenizer(model, reference);
        long leftovers = spooled();

        try (Server s = start(model, 1024); PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), TOKEN, 1024)) {
            JsonObject before = generate(s);
            // bad uploads through the file path: refused with the upload named, nothing served changes
            byte[] bytes = image(pushed.tensors());
            HttpResponse<String> truncated = put(s, 1, Arrays.copyOf(bytes, bytes.length / 2));
            assertThat(truncated.statusCode()).isEqualTo(400);
            assertThat(truncated.body()).contains("weight upload");
            byte[] msBytes = image(misShapedNorm(pushed));
            HttpResponse<String> shaped = put(s, 1, msBytes);
            assertThat(shaped.statusCode()).isEqualTo(400);
            assertThat(shaped.body()).contains("model.norm.weight");
            assertThat(s.engine().liveVersion()).isZero();
            assertThat(generate(s).getJsonArray("samples")).isEqualTo(before.getJsonArray("samples"));

            client.pushWeights(pushed, 1); // written to a file by the client, spooled to a file by the server
            assertThat(s.engine().liveVersion()).isEqualTo(1);
            JsonObject after = generate(s);
            try (Server ref = start(reference, InferenceServer.Settings.ARRAY_MAX)) {
                assertThat(after.getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids"))
                        .isEqualTo(generate(ref).getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids"));
            }
            assertThat(after.getJsonArray("samples")).isNotEqualTo(before.getJsonArray("samples"));
        }
        assertThat(spooled()).as("temporary files are deleted, refused uploads included").isEqualTo(leftovers);
    }

    @Test
    void bodiesWhoseArrayIsMadeOnAWorkerArriveWhole() throws Exception {
        // the path a 0.5B model's 2 GB in-memory push takes (its array allocated off the event loop), at the tiny
        // model's size: refused when mis-shaped, served exactly when whole
        Path model = dir.resolve("model");
        ModelConfig config = ModelInit.initTiny(model, 3).config();
        Weights pushed = ModelInit.random(config, 43);
        Path reference = dir.resolve("reference");
        ModelDir.save(reference, config, pushed);
        ModelDir.copyTokenizer(model, reference);
        long before = InferenceServer.largeBody;
        InferenceServer.largeBody = 1024;
        try (Server s = start(model, InferenceServer.Settings.ARRAY_MAX)) {
            byte[] bytes = image(pushed.tensors());
            byte[] msBytes = image(misShapedNorm(pushed));
            HttpResponse<String> shaped = put(s, 1, msBytes);
            assertThat(shaped.statusCode()).isEqualTo(400);
            assertThat(shaped.body()).contains("model.norm.weight");
            assertThat(put(s, 1, bytes).statusCode()).isEqualTo(200);
            assertThat(s.engine().liveVersion()).isEqualTo(1);
            try (Server ref = start(reference, InferenceServer.Settings.ARRAY_MAX)) {
                assertThat(generate(s).getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids"))
                        .isEqualTo(generate(ref).getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids"));
            }
        } finally {
            InferenceServer.largeBody = before;
        }
    }

    @Test
    void theThresholdIsValidated() {
        assertThatThrownBy(() -> new InferenceServer.Settings("127.0.0.1", 0, "m", TOKEN, 1, InferenceServer.Settings.ARRAY_MAX + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inMemoryUploadMax");
    }
}
