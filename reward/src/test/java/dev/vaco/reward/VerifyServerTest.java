package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A real server on loopback, driven by java.net.http. */
@ExtendWith(VertxExtension.class)
class VerifyServerTest {
    static Vertx vertx;
    static VerifyServer server;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = new VerifyServer(VerifierConfig.defaults(), 0);
        vertx.deployVerticle(server).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static HttpResponse<String> post(byte[] body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/v1/verify"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return post(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void health() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("status").asText()).isEqualTo("ok");
    }

    @Test
    void verifiesABatch() throws Exception {
        HttpResponse<String> r = post("{\"items\":[{\"gold\":\"#### 12\",\"pred\":\"\\\\boxed{12}\"},"
                + "{\"gold\":\"$\\\\frac{1}{2}$\",\"pred\":\"The answer is 0.5\"}],\"strict\":true}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode v = JSON.readTree(r.body()).get("verdicts");
        assertThat(v).hasSize(2);
        assertThat(v.get(0).get("status").asText()).isEqualTo("CORRECT");
        assertThat(v.get(1).get("status").asText()).isEqualTo("NO_ANSWER");
        assertThat(v.get(0).get("version").asText()).isEqualTo(Verifier.VERSION);
    }

    @Test
    void badJsonIs400() throws Exception {
        HttpResponse<String> r = post("{not json");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/message").asText()).contains("JSON");
    }

    @Test
    void wrongTypesAre400NamingTheField() throws Exception {
        HttpResponse<String> r = post("{\"items\":[{\"gold\":\"1\",\"pred\":\"1\"},{\"gold\":\"1\",\"pred\":{}}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/field").asText()).isEqualTo("items[1].pred");
        r = post("{\"items\":[],\"strict\":\"yes\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).at("/error/field").asText()).isEqualTo("strict");
        r = post("{\"items\":{}}");
        assertThat(JSON.readTree(r.body()).at("/error/field").asText()).isEqualTo("items");
    }

    @Test
    void rawInvalidUtf8GetsAVerdict() throws Exception {
        byte[] head = "{\"items\":[{\"gold\":\"5\",\"pred\":\"\\\\boxed{5}".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\"}]}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + 3 + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        body[head.length] = (byte) 0xFF;
        body[head.length + 1] = (byte) 0xC3;
        body[head.length + 2] = (byte) 0x28;
        System.arraycopy(tail, 0, body, head.length + 3, tail.length);
        HttpResponse<String> r = post(body);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/verdicts/0/status").asText()).isEqualTo("CORRECT");
    }

    @Test
    void hostileItemsDoNotStallTheServer() throws Exception {
        String nested = "{".repeat(50_000) + "1" + "}".repeat(50_000);
        long t0 = System.nanoTime();
        HttpResponse<String> r = post("{\"items\":[{\"gold\":\"5\",\"pred\":\"\\\\boxed{" + nested + "}\"},"
                + "{\"gold\":\"5\",\"pred\":\"\\\\boxed{100!!!!}\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(3_000);
        assertThat(JSON.readTree(r.body()).at("/verdicts/0/status").asText()).isNotEqualTo("CORRECT");
    }
}
