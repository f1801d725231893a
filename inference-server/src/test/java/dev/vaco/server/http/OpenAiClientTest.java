package dev.vaco.server.http;

import dev.vaco.model.ModelInit;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official OpenAI Node client ({@code src/test/node}, installed by {@code npm ci} in .ci/run) against a real
 * server on loopback, streaming and not. Skips with a reason when node or the package is absent.
 */
class OpenAiClientTest {
    @Test
    void theOfficialOpenAiClientTalksToTheServer() throws Exception {
        Path script = Path.of("src/test/node/openai-client.mjs").toAbsolutePath();
        assumeTrue(Files.isDirectory(script.resolveSibling("node_modules/openai")),
                "the openai npm package is not installed: run `npm ci --prefix inference-server/src/test/node`");
        assumeTrue(new ProcessBuilder("node", "--version").start().waitFor() == 0, "node is not on PATH");
        Path dir = Files.createTempDirectory("vaco-openai");
        ModelInit.initTiny(dir, 5);
        // with --api-key: the official client sends it as OpenAI's own server expects (Authorization: Bearer)
        try (Server server = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "tiny", "t", 64L << 20)
                .withApiKey("sk-node-key"), EngineOptions.DEFAULT)) {
            ProcessBuilder pb = new ProcessBuilder("node", script.toString(), "http://127.0.0.1:" + server.port() + "/v1", "tiny");
            pb.environment().put("OPENAI_API_KEY", "sk-node-key");
            Process p = pb.redirectErrorStream(true).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            assertThat(p.exitValue()).as(out).isZero();
            JsonObject r = new JsonObject(out.lines().reduce((a, b) -> b).orElseThrow());
            assertThat(r.getInteger("completionTokens")).isEqualTo(12);
            assertThat(r.getJsonObject("completionUsage").getInteger("completion_tokens")).isEqualTo(12);
            assertThat(r.getJsonArray("chatTexts")).hasSize(2);
            assertThat(r.getInteger("chatLogprobTokens")).isEqualTo(12);
            // same seed: the streamed chat equals the non-streamed one, sample by sample
            assertThat(r.getJsonArray("streamed")).isEqualTo(r.getJsonArray("chatTexts"));
            assertThat(r.getJsonArray("streamFinish").getList()).containsOnly("length");
            assertThat(r.getJsonObject("streamUsage").getInteger("completion_tokens")).isEqualTo(24);
            assertThat(r.getString("completionStreamed")).isEqualTo(r.getString("completionText"));
            assertThat(r.getJsonObject("badRequest").getInteger("status")).isEqualTo(400);
            assertThat(r.getJsonObject("badRequest").getString("param")).isEqualTo("temperature");
            assertThat(r.getJsonArray("modelIds").getList()).containsExactly("tiny");
        }
    }
}
