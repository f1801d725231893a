package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HubDatasets against a loopback server that serves the Hub's URL layout. Never leaves 127.0.0.1. */
class HubDatasetsTest {

    @TempDir
    Path tmp;

    private HttpServer server;
    private byte[] parquet;
    private final ConcurrentLinkedQueue<String> requests = new ConcurrentLinkedQueue<>();
    private volatile boolean treeAvailable = true;

    @BeforeEach
    void start() throws IOException {
        MessageType schema = TestParquet.schema(
                "message m { optional binary question (STRING); optional binary answer (STRING); }");
        Path f = TestParquet.write(tmp.resolve("src.parquet"), schema, List.of(
                Map.of("question", "Janet has 3 eggs. How many?", "answer", "She has 3.\n#### 3"),
                Map.of("question", "Big?", "answer", "#### 1,200")), CompressionCodecName.SNAPPY);
        parquet = Files.readAllBytes(f);

        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            requests.add(path);
            switch (path) {
                case "/api/datasets/openai/gsm8k/tree/main/main" -> {
                    if (treeAvailable) {
                        send(ex, 200, ("[{\"type\":\"file\",\"oid\":\"x\",\"size\":" + parquet.length
                                + ",\"path\":\"main/test-00000-of-00001.parquet\"},"
                                + "{\"type\":\"file\",\"oid\":\"y\",\"size\":5,\"path\":\"main/train-00000-of-00001.parquet\"}]")
                                .getBytes(StandardCharsets.UTF_8));
                    } else {
                        send(ex, 404, "{\"error\":\"not found\"}".getBytes(StandardCharsets.UTF_8));
                    }
                }
                case "/datasets/openai/gsm8k/resolve/main/main/test-00000-of-00001.parquet",
                        "/api/datasets/openai/gsm8k/parquet/main/test/0.parquet" -> send(ex, 200, parquet);
                case "/api/datasets/openai/gsm8k/parquet/main/test" ->
                        send(ex, 200, ("[\"" + base + "/api/datasets/openai/gsm8k/parquet/main/test/0.parquet\"]")
                                .getBytes(StandardCharsets.UTF_8));
                default -> send(ex, 404, "{\"error\":\"not found\"}".getBytes(StandardCharsets.UTF_8));
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
        ex.close();
    }

    private HubDatasets hub(URI endpoint, boolean offline) {
        return new HubDatasets(new HubDatasets.Config(endpoint, tmp.resolve("hf/hub"), offline, null,
                Duration.ofSeconds(5)));
    }

    private URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void downloadsRepoFilesIntoHubLayoutAndReusesTheCache() {
        HubDatasets hub = hub(endpoint(), false);

        List<Path> files = hub.files("openai/gsm8k", "main", "test");

        Path expected = tmp.resolve("hf/hub/datasets--openai--gsm8k/snapshots/main/main/test-00000-of-00001.parquet");
        assertThat(files).containsExactly(expected);
        List<Problem> ps = hub.load("openai/gsm8k", "main", "test", Gsm8k.INSTANCE);
        assertThat(ps).extracting(Problem::goldAnswer).containsExactly("3", "1200");
        assertThat(ps.get(0).source()).isEqualTo("openai/gsm8k/main/test");
        long downloads = requests.stream().filter(r -> r.contains("/resolve/")).count();
        assertThat(downloads).isEqualTo(1); // second resolve found the file with the listed size

        // Server gone: connection refused falls back to the cache.
        server.stop(0);
        assertThat(hub(endpoint(), false).files("openai/gsm8k", "main", "test")).containsExactly(expected);
        // Offline mode: cache only, no request.
        int before = requests.size();
        assertThat(hub(endpoint(), true).files("openai/gsm8k", "main", "test")).containsExactly(expected);
        assertThat(requests).hasSize(before);
    }

    @Test
    void fallsBackToTheParquetConversionListing() {
        treeAvailable = false;
        HubDatasets hub = hub(endpoint(), false);

        List<Path> files = hub.files("openai/gsm8k", "main", "test");

        assertThat(files).containsExactly(
                tmp.resolve("hf/hub/datasets--openai--gsm8k/snapshots/refs--convert--parquet/main/test/0.parquet"));
        assertThat(Datasets.load(files.get(0), Gsm8k.INSTANCE)).hasSize(2);
        assertThat(requests).contains("/api/datasets/openai/gsm8k/parquet/main/test");
    }

    @Test
    void unknownSplitSaysSo() {
        treeAvailable = false;
        assertThatThrownBy(() -> hub(endpoint(), false).files("openai/gsm8k", "main", "validation"))
                .isInstanceOf(HubDatasets.DatasetUnavailableException.class)
                .hasMessageContaining("no Parquet files for config 'main', split 'validation'");
    }

    @Test
    void offlineWithoutCacheSaysWhichFilesToPlaceWhere() {
        assertThatThrownBy(() -> hub(endpoint(), true).files("openai/gsm8k", "main", "test"))
                .isInstanceOf(HubDatasets.DatasetUnavailableException.class)
                .hasMessageContaining("HF_HUB_OFFLINE")
                .hasMessageContaining(tmp.resolve("hf/hub/datasets--openai--gsm8k/snapshots/main/main") + "/test-*.parquet")
                .hasMessageContaining("/datasets/openai/gsm8k/resolve/main/main/test-00000-of-00001.parquet");
        assertThat(requests).isEmpty();
    }

    @Test
    void connectionRefusedWithoutCacheSaysWhichFilesToPlaceWhere() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        URI dead = URI.create("http://127.0.0.1:" + closedPort);
        assertThatThrownBy(() -> hub(dead, false).files("openai/gsm8k", "main", "test"))
                .isInstanceOf(HubDatasets.DatasetUnavailableException.class)
                .hasMessageContaining("is unreachable")
                .hasMessageContaining("datasets--openai--gsm8k/snapshots/main/main/test-*.parquet");
    }

    @Test
    void environmentIsReadLikeHuggingFaceClients() {
        Path home = Path.of("/home/u");
        HubDatasets.Config d = HubDatasets.Config.fromEnvironment(Map.of(), home);
        assertThat(d.endpoint()).isEqualTo(URI.create("https://huggingface.co"));
        assertThat(d.hubCache()).isEqualTo(Path.of("/home/u/.cache/huggingface/hub"));
        assertThat(d.offline()).isFalse();

        HubDatasets.Config c = HubDatasets.Config.fromEnvironment(Map.of("HF_ENDPOINT", "http://127.0.0.1:9/",
                "HF_HOME", "/data/hf", "HF_HUB_OFFLINE", "1"), home);
        assertThat(c.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9"));
        assertThat(c.hubCache()).isEqualTo(Path.of("/data/hf/hub"));
        assertThat(c.offline()).isTrue();

        assertThat(HubDatasets.Config.fromEnvironment(Map.of("HF_HOME", "/a", "HF_HUB_CACHE", "/b"), home).hubCache())
                .isEqualTo(Path.of("/b"));
    }

    @Test
    void rejectsPathTraversalInNames() {
        HubDatasets hub = hub(endpoint(), true);
        assertThatThrownBy(() -> hub.files("../etc", "main", "test")).hasMessageContaining("repo must match");
        assertThatThrownBy(() -> hub.files("openai/gsm8k", "..", "test")).hasMessageContaining("config must match");
    }
}
