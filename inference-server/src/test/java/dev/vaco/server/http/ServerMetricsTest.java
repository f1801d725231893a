package dev.vaco.server.http;

import dev.vaco.model.ModelInit;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.metrics.PrometheusText;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server's {@code /metrics} (Micrometer's Prometheus registry) parsed by the strict {@link PrometheusText}: every
 * name the hand-written exposition had is there with its type, with values that follow the requests made, beside
 * Vert.x's HTTP meters and the JVM's.
 */
class ServerMetricsTest {
    /** The hand-written exposition's names and types (before Micrometer): they must keep working. */
    static final Map<String, String> KEPT = Map.ofEntries(
            Map.entry("vaco_queue_depth", "gauge"), Map.entry("vaco_running_batch_size", "gauge"),
            Map.entry("vaco_policy_version", "gauge"), Map.entry("vaco_requests_total", "counter"),
            Map.entry("vaco_requests_rejected_total", "counter"), Map.entry("vaco_bad_requests_total", "counter"),
            Map.entry("vaco_unauthorized_requests_total", "counter"), Map.entry("vaco_prompt_tokens_total", "counter"),
            Map.entry("vaco_generation_tokens_total", "counter"), Map.entry("vaco_generation_tokens_per_second", "gauge"),
            Map.entry("vaco_decode_steps_total", "counter"), Map.entry("vaco_decode_seconds_total", "counter"),
            Map.entry("vaco_generation_tokens_by_version_total", "counter"), Map.entry("vaco_weight_updates_total", "counter"),
            Map.entry("vaco_weight_updates_rejected_total", "counter"), Map.entry("vaco_weight_rollbacks_total", "counter"),
            Map.entry("vaco_weight_staged_total", "counter"), Map.entry("vaco_weight_activations_total", "counter"),
            Map.entry("vaco_weight_drops_total", "counter"), Map.entry("vaco_staged_versions", "gauge"),
            Map.entry("vaco_weight_update_seconds_total", "counter"), Map.entry("vaco_time_to_first_token_seconds", "histogram"));

    /** Vert.x's requests counted on one server's {@code /metrics}. */
    static double httpRequests(HttpClient http, String base) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, PrometheusText.Family> f = PrometheusText.parse(r.body());
        assertThat(f).as(base + "/metrics").containsKey("jvm_memory_used_bytes");
        PrometheusText.Family requests = f.get("vertx_http_server_requests_total");
        return requests == null ? 0 : requests.samples().stream().mapToDouble(PrometheusText.Sample::value).sum();
    }

    @Test
    void twoServersInOneJvmEachCountTheirOwnHttpRequests() throws Exception {
        Path dir = Files.createTempDirectory("vaco-metrics");
        ModelInit.initTiny(dir, 3);
        HttpClient http = HttpClient.newHttpClient();
        var settings = new InferenceServer.Settings("127.0.0.1", 0, "tiny", "t", 64L << 20);
        try (Server first = Server.start(dir, settings, new EngineOptions(8, 4, 3, PolicyOptions.DEFAULT));
             Server second = Server.start(dir, settings, new EngineOptions(8, 4, 3, PolicyOptions.DEFAULT))) {
            String a = "http://127.0.0.1:" + first.port(), b = "http://127.0.0.1:" + second.port();
            for (int i = 0; i < 5; i++) {
                assertThat(http.send(HttpRequest.newBuilder(URI.create(b + "/health")).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode()).isEqualTo(200);
            }
            // a backend shared by name would show the second's five requests on the first and none on the second
            assertThat(httpRequests(http, b)).as("the second server's requests on its own /metrics").isEqualTo(5);
            assertThat(httpRequests(http, a)).as("the second server's requests on the first's /metrics").isZero();
        }
    }

    @Test
    void metricsParseAndKeepTheirNames() throws Exception {
        Path dir = Files.createTempDirectory("vaco-metrics");
        ModelInit.initTiny(dir, 3);
        HttpClient http = HttpClient.newHttpClient();
        try (Server server = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "tiny", "t", 64L << 20),
                new EngineOptions(8, 4, 3, PolicyOptions.DEFAULT))) {
            String base = "http://127.0.0.1:" + server.port();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/generate"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"7*8=\", \"max_tokens\": 5, \"seed\": " + i + "}"))
                        .header("content-type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
            http.send(HttpRequest.newBuilder(URI.create(base + "/v1/generate")).POST(HttpRequest.BodyPublishers.ofString("{"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
            Files.writeString(Path.of("target/server-metrics.txt"), r.body()); // for a person to read
            Map<String, PrometheusText.Family> f = PrometheusText.parse(r.body());
            KEPT.forEach((name, type) -> assertThat(f).as(name).containsKey(name));
            KEPT.forEach((name, type) -> assertThat(f.get(name).type()).as(name).isEqualTo(type));
            assertThat(f.get("vaco_requests_total").value()).isEqualTo(3);
            assertThat(f.get("vaco_bad_requests_total").value()).isEqualTo(1);
            // the tiny model may stop early on its end token; at least one token per request, at most 5
            double tokens = f.get("vaco_generation_tokens_total").value();
            assertThat(tokens).isBetween(3.0, 15.0);
            assertThat(f.get("vaco_generation_tokens_by_version_total").value("version", "0")).isEqualTo(tokens);
            assertThat(f.get("vaco_time_to_first_token_seconds").samples().stream()
                    .filter(s -> s.name().endsWith("_count")).findFirst().orElseThrow().value()).isEqualTo(3);
            // Vert.x's HTTP server meters and the JVM's, in the same registry
            assertThat(f.get("vertx_http_server_requests_total").samples().stream().mapToDouble(PrometheusText.Sample::value)
                    .sum()).isGreaterThanOrEqualTo(4);
            assertThat(f).containsKey("jvm_memory_used_bytes");
        }
    }

    @Test
    void theOracleRefusesWhatTheFormatForbids() {
        assertThat(PrometheusText.parse("# HELP a_total x\n# TYPE a_total counter\na_total 1.0\n").get("a_total").value()).isEqualTo(1);
        for (String bad : List.of(
                "a 1",                                        // no final line feed
                "a{b=\"1\"\n",                                // unterminated label set
                "a{b=1} 1\n",                                 // unquoted label value
                "a{__b=\"1\"} 1\n",                           // reserved label name
                "a one\n",                                    // not a number
                "a 1 2.5\n",                                  // timestamp not an integer
                "a 1\nb 1\na 2\n",                            // a family split in two groups (and a repeat)
                "a 1\n# TYPE a gauge\n",                      // TYPE after the samples
                "# TYPE a counter\na -1\n",                   // a negative counter
                "# TYPE a histogram\na_bucket{le=\"1\"} 2\na_bucket{le=\"+Inf\"} 1\na_count 1\na_sum 0\n", // not cumulative
                "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_count 1\na_sum 0\n", // no +Inf bucket
                "# TYPE a summary\na 1\n",                    // summary sample without quantile
                "# TYPE a blob\n")) {                         // unknown type
            assertThatThrownBy(() -> PrometheusText.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
