package dev.vaco.server.http;

import dev.vaco.model.ModelFormatException;
import dev.vaco.server.batch.QueueFullException;
import dev.vaco.server.sampling.InvalidRequestException;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** One error shape for every route: OpenAI's {@code {"error": {"message", "type", "param", "code"}}}. */
final class HttpErrors {
    private HttpErrors() {}

    static void send(RoutingContext ctx, int status, String type, String message, String param) {
        send(ctx, status, type, message, param, null);
    }

    static void send(RoutingContext ctx, int status, String type, String message, String param, String code) {
        HttpServerResponse r = ctx.response();
        if (r.headWritten()) { // a stream already started: end it; the client sees the truncated stream
            if (!r.ended()) r.end();
            return;
        }
        JsonObject err = new JsonObject().put("message", message).put("type", type).put("param", param).put("code", code);
        r.setStatusCode(status).putHeader("content-type", "application/json").end(new JsonObject().put("error", err).encode());
    }

    /** Maps an exception from parsing, validation or the engine to its status code. */
    static void fail(RoutingContext ctx, Throwable t, dev.vaco.server.metrics.ServerMetrics metrics) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) t = t.getCause();
        if (t instanceof InvalidRequestException e) {
            metrics.badRequests.increment();
            if (e.status() == 404 && "model".equals(e.field())) { // vLLM's type and message, OpenAI's code
                send(ctx, 404, "NotFoundError", e.getMessage(), "model", "model_not_found");
                return;
            }
            send(ctx, e.status(), e.status() == 404 ? "not_found_error" : "invalid_request_error", e.getMessage(), e.field());
        } else if (t instanceof ModelFormatException e) {
            metrics.badRequests.increment();
            send(ctx, 400, "invalid_request_error", e.getMessage(), "body");
        } else if (t instanceof QueueFullException e) {
            ctx.response().putHeader("Retry-After", "1");
            send(ctx, 429, "rate_limit_error", e.getMessage(), null);
        } else if (t instanceof IllegalStateException e && String.valueOf(e.getMessage()).contains("shut")) {
            ctx.response().putHeader("Retry-After", "5");
            send(ctx, 503, "server_error", e.getMessage(), null);
        } else {
            send(ctx, 500, "server_error", t.getClass().getSimpleName() + ": " + t.getMessage(), null);
        }
    }
}
