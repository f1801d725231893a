package dev.vaco.trainer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.learner.Telemetry;
import dev.vaco.server.metrics.PrometheusText;
import dev.vaco.trainer.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The dashboard's HTTP side on real run directories written by the trainer's own {@link Telemetry}: the JSON and event
 * routes, the bad-input rules (4xx JSON naming the field), the stream delivering a line as it is written, the
 * bundled assets, and the trainer's /metrics parsed by the strict text-format parser.
 */
class DashboardServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir Path dir;

    /** A run directory: config.json and {@code steps} step lines (an evaluation at step 0), as the trainer writes them. */
    Path run(String name, int steps, int eta) throws Exception {
        Path d = dir.resolve(name);
        ConfigLoader.writeResolved(ConfigLoader.load(List.of("rollout.max_staleness=" + eta)), d.resolve("config.json"));
        try (Telemetry t = new Telemetry(d.resolve("metrics.jsonl"), null)) {
            t.eval(0, 1, 0.5, 0.45, 0.55, 1.0);
            for (int s = 1; s <= steps; s++) t.step(s, 1 + s, 0.5, stepMetrics(s));
        }
        return d;
    }

    static Map<String, Double> stepMetrics(int s) {
        return new java.util.HashMap<>(Map.of("reward/mean", 0.5 + 0.01 * s, "lag/mean", 1.0, "lag/tokens_0", 10.0,
                "lag/tokens_1", 30.0, "pipeline/elapsed_s", 2.0 * s, "pipeline/generated_tokens", 100.0 * s));
    }

    static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(java.time.Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void routesAnswerAndBadInputIsA4xxNamingTheField() throws Exception {
        Path a = run("a", 3, 2), b = run("b", 2, 0);
        try (DashboardServer s = DashboardServer.over("127.0.0.1", 0, RunDirs.of(List.of(a, b)))) {
            JsonNode runs = JSON.readTree(get(s.url() + "api/runs").body()).get("runs");
            assertThat(runs).hasSize(2);
            assertThat(runs.get(0).get("id").asText()).isEqualTo("a");
            assertThat(runs.get(0).get("max_staleness").asInt()).isEqualTo(2);
            assertThat(runs.get(1).get("live").asBoolean()).isFalse();
            JsonNode m = JSON.readTree(get(s.url() + "api/runs/a/metrics?from=1").body());
            assertThat(m.get("lines")).hasSize(3);
            assertThat(m.get("lines").get(0).get("step").asInt()).isEqualTo(1);
            assertThat(m.get("next").asInt()).isEqualTo(4);

            assertError(get(s.url() + "api/runs/nope/metrics"), 404, "run");
            assertError(get(s.url() + "api/runs/nope/events"), 404, "run");
            assertError(get(s.url() + "api/runs/a/metrics?from=x"), 400, "from");
            assertError(get(s.url() + "api/runs/a/metrics?from=-1"), 400, "from");
            assertError(get(s.url() + "api/runs/a/metrics?from=1&from=2"), 400, "from");
            assertError(get(s.url() + "api/runs/a/events?form=1"), 400, "form");
            assertError(get(s.url() + "assets/secret.txt"), 404, "name");
            assertError(get(s.url() + "api/nothing"), 404, null);

            HttpResponse<String> page = get(s.url());
            assertThat(page.headers().firstValue("content-type").orElse("")).startsWith("text/html");
            assertThat(page.body()).contains("/assets/uPlot.iife.min.js", "/assets/dashboard.js");
            assertThat(get(s.url() + "assets/uPlot.iife.min.js").body()).startsWith("/*! https://github.com/leeoniya/uPlot (v");
        }
    }

    static void assertError(HttpResponse<String> r, int status, String param) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e.get("message").asText()).isNotBlank();
        if (param == null) assertThat(e.get("param").isNull()).isTrue();
        else assertThat(e.get("param").asText()).isEqualTo(param);
    }

    @Test
    void aMissingRunDirectoryIsNamed() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> RunDirs.of(List.of(dir.resolve("gone")))).hasMessage("RUN_DIR " + dir.resolve("gone") + ": no such directory");
        assertThatThrownBy(() -> RunDirs.of(List.of(empty))).hasMessageContaining("RUN_DIR " + empty + ": holds no metrics.jsonl");
        Path x = run("x", 1, 0);
        Path other = run("other/x", 1, 0);
        assertThat(RunDirs.of(List.of(x, other)).stream().map(RunDirs.Run::id)).containsExactly("x", "x-2");
    }

    @Test
    void theStreamDeliversEachLineAsItIsWrittenAndTheLiveRunsMetricsParse() throws Exception {
        Path a = run("live", 2, 1);
        ObjectNode status = JsonNodeFactory.instance.objectNode().put("phase", "training").put("in_flight_groups", 5)
                .put("ready_groups", 1).put("max_staleness", 1).put("admitted_groups", 12);
        status.putArray("servers").addObject().put("url", "http://127.0.0.1:1").put("healthy", true).put("version", 3);
        try (DashboardServer s = DashboardServer.live("127.0.0.1", 0, "live", a, () -> status);
             Telemetry t = new Telemetry(a.resolve("metrics.jsonl"), null)) {
            BlockingQueue<String> lines = new ArrayBlockingQueue<>(1000);
            HttpResponse<Stream<String>> sse = HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + "api/runs/live/events?from=1")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            assertThat(sse.headers().firstValue("content-type")).hasValue("text/event-stream");
            Thread reader = new Thread(() -> {
                try {
                    sse.body().forEach(lines::add);
                } catch (java.io.UncheckedIOException e) {
                    // the stream ends with the server
                }
            });
            reader.setDaemon(true);
            reader.start();
            assertThat(next(lines, "id: ")).isEqualTo("id: 1"); // line 0 (the evaluation) skipped: from=1
            assertThat(next(lines, "id: ")).isEqualTo("id: 2");
            assertThat(next(lines, "data: {\"phase\"")).contains("\"in_flight_groups\":5");
            long t0 = System.nanoTime();
            t.step(3, 4, 0.5, stepMetrics(3));
            assertThat(next(lines, "id: ")).isEqualTo("id: 3");
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from the line written to the line received").isLessThan(2);
            assertThat(next(lines, "data: ")).contains("\"step\":3");

            Map<String, PrometheusText.Family> f = PrometheusText.parse(get(s.url() + "metrics").body());
            assertThat(f.get("vaco_trainer_reward_mean").value()).isEqualTo(0.53, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(f.get("vaco_trainer_step").value()).isEqualTo(3);
            assertThat(f.get("vaco_trainer_lag_tokens").value("lag", "1")).isEqualTo(30);
            assertThat(f.get("vaco_trainer_eval_accuracy").value()).isEqualTo(0.5);
            assertThat(f.get("vaco_trainer_in_flight_groups").value()).isEqualTo(5);
            assertThat(f.get("vaco_trainer_phase").value("phase", "training")).isEqualTo(1);
            assertThat(f.get("vaco_trainer_phase").value("phase", "warm start")).isEqualTo(0);
            assertThat(f.get("vaco_trainer_server_version").value("server", "http://127.0.0.1:1")).isEqualTo(3);
            assertThat(f).containsKeys("vertx_http_server_active_requests", "jvm_memory_used_bytes");
        }
    }

    @Test
    void aDashboardBesideAnotherMeteredVertxServesItsOwnJvmAndHttpMeters() throws Exception {
        Path a = run("a", 2, 0);
        // the embedded inference server's Vert.x comes first in `vaco train`; another dashboard stands in for it here
        try (DashboardServer first = DashboardServer.over("127.0.0.1", 0, RunDirs.of(List.of(a)));
             DashboardServer second = DashboardServer.live("127.0.0.1", 0, "a", a, () -> null)) {
            for (int i = 0; i < 4; i++) assertThat(get(second.url() + "api/runs").statusCode()).isEqualTo(200);
            Map<String, PrometheusText.Family> own = PrometheusText.parse(get(second.url() + "metrics").body());
            assertThat(own).containsKeys("jvm_memory_used_bytes", "vertx_http_server_requests_total", "vaco_trainer_step");
            assertThat(requests(own)).as("this dashboard's requests on its /metrics").isEqualTo(4);
            assertThat(requests(PrometheusText.parse(get(first.url() + "metrics").body())))
                    .as("the second dashboard's requests on the first's /metrics").isZero();
        }
    }

    static double requests(Map<String, PrometheusText.Family> f) {
        PrometheusText.Family r = f.get("vertx_http_server_requests_total");
        return r == null ? 0 : r.samples().stream().mapToDouble(PrometheusText.Sample::value).sum();
    }

    /** The next stream line starting with {@code prefix} (others skipped), waiting at most 5 s. */
    static String next(BlockingQueue<String> lines, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            String l = lines.poll(100, TimeUnit.MILLISECONDS);
            if (l != null && l.startsWith(prefix)) return l;
        }
        throw new AssertionError("no stream line starting with '" + prefix + "' within 5 s");
    }
}
