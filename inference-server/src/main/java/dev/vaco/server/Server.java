package dev.vaco.server;

import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
import dev.vaco.chat.ChatTemplate;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.http.InferenceServer;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A running inference server: Vert.x, the HTTP verticle and the generation engine, started from a model directory
 * (or from weights in memory, for the embedded demo) and stopped gracefully by {@link #close()}.
 */
public final class Server implements AutoCloseable {
    private final Vertx vertx;
    private final InferenceServer http;
    private final GenerationEngine engine;
    private final Tokenizer tokenizer;
    private final ServerMetrics metrics;
    private final Duration grace;

    private Server(Vertx vertx, InferenceServer http, GenerationEngine engine, Tokenizer tokenizer, ServerMetrics metrics, Duration grace) {
        this.vertx = vertx;
        this.http = http;
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.grace = grace;
    }

    /** Loads {@code modelDir} (config, weights, tokenizer, chat template) and serves it as policy version 0. */
    public static Server start(Path modelDir, InferenceServer.Settings settings, EngineOptions options) {
        ModelDir.Loaded m = ModelDir.load(modelDir);
        return start(modelDir, m.config(), m.weights(), 0, settings, options);
    }

    /** Serves {@code weights} as {@code version}; the tokenizer and chat template come from {@code tokenizerDir}. */
    public static Server start(Path tokenizerDir, ModelConfig config, Weights weights, long version,
                               InferenceServer.Settings settings, EngineOptions options) {
        Tokenizer tokenizer = Tokenizer.load(tokenizerDir);
        ChatTemplate template = null;
        Path tc = tokenizerDir.resolve(ModelDir.TOKENIZER_CONFIG);
        if (hasChatTemplate(tc)) template = ChatTemplate.fromTokenizerConfig(tc);
        ServerMetrics metrics = new ServerMetrics();
        GenerationEngine engine = new GenerationEngine(config, weights, version, tokenizer, metrics, options);
        Vertx vertx = metered(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(4), metrics);
        InferenceServer http = new InferenceServer(settings, engine, template, metrics);
        try {
            vertx.deployVerticle(http).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            engine.close();
            vertx.close();
            tokenizer.close();
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot listen on " + settings.host() + ":" + settings.port() + ": " + c.getMessage(), c);
        }
        return new Server(vertx, http, engine, tokenizer, metrics, Duration.ofSeconds(30));
    }

    /**
     * A Vert.x whose HTTP server meters ({@code vertx_http_server_*}) and the JVM's ({@code jvm_*}) go to the
     * server's own registry, beside its {@code vaco_*} meters: one {@code /metrics} for all (a registry per server, so
     * several servers in one JVM, as in tests and the demo, never share or double-count). The backend's name must be
     * unique: vertx-micrometer-metrics keeps its backends in a JVM-wide map by name, and a second Vert.x under the
     * default name is handed the first one's registry, its own left empty.
     */
    private static Vertx metered(VertxOptions options, ServerMetrics metrics) {
        options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
                .setRegistryName("vaco-server-" + java.util.UUID.randomUUID()));
        return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(metrics.registry())).build();
    }

    private static boolean hasChatTemplate(Path tokenizerConfig) {
        if (!Files.isRegularFile(tokenizerConfig)) return false;
        try {
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(tokenizerConfig));
            return node != null && node.hasNonNull("chat_template");
        } catch (java.io.IOException e) {
            throw new dev.vaco.model.ModelFormatException(tokenizerConfig + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public int port() {
        return http.actualPort();
    }

    public GenerationEngine engine() {
        return engine;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Graceful: stop accepting connections, let running requests finish (up to the grace period), then stop. */
    @Override
    public void close() {
        engine.shutdown(grace);
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing is best effort; the engine already finished or aborted every request
        }
        tokenizer.close();
    }
}
