package dev.vaco.server.http;

import dev.vaco.server.metrics.ServerMetrics;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * vLLM's {@code --api-key}: every {@code /v1} route needs {@code Authorization: Bearer KEY}. The weight routes and the
 * runtime adapter routes ({@link LoraRoutes}) keep their own weights token (a client that may sample must not be able to replace the policy), and {@code /health} and
 * {@code /metrics} stay open for probes. A refusal is a 401 in OpenAI's error shape, one log line without the key.
 */
final class ApiKeyAuth implements Handler<RoutingContext> {
    private final byte[] expected;
    private final ServerMetrics metrics;

    ApiKeyAuth(String apiKey, ServerMetrics metrics) {
        this.expected = ("Bearer " + apiKey).getBytes(StandardCharsets.UTF_8);
        this.metrics = metrics;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String path = ctx.request().path();
        if (path.equals("/v1/weights") || path.startsWith("/v1/weights/") || path.endsWith("_lora_adapter")) {
            ctx.next();
            return;
        }
        String h = ctx.request().getHeader("Authorization");
        // constant time: the comparison must not tell a caller how much of a guessed key was right
        if (h != null && MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), expected)) {
            ctx.next();
            return;
        }
        metrics.unauthorized.increment();
        String why = h == null ? "no API key" : "an incorrect API key";
        System.err.printf("vaco serve: 401 for %s %s from %s: %s%n", ctx.request().method(), path,
                ctx.request().remoteAddress(), why);
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        HttpErrors.send(ctx, 401, "authentication_error", (h == null ? "You didn't provide an API key." : "Incorrect API key provided.")
                + " Send it as 'Authorization: Bearer KEY' (the server was started with --api-key).", "Authorization");
    }
}
