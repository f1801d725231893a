package dev.vaco.trainer.pipeline;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;

/**
 * A real HTTP server on loopback in front of a real inference server: forwards every request and answers with the
 * server's response, holding back the answers that {@code slow} picks (by path and request body) until {@code release}
 * says so or {@code maxHoldMs} have passed. The way to make one server slow for one group without touching the
 * product.
 */
final class DelayingProxy implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final HttpClientAgent client = vertx.createHttpClient();
    private final HttpServer server;
    private final AtomicInteger delayed = new AtomicInteger();

    private final BooleanSupplier release;
    private final long maxHoldMs;

    DelayingProxy(int targetPort, BiPredicate<String, String> slow, BooleanSupplier release, long maxHoldMs) throws Exception {
        this.release = release;
        this.maxHoldMs = maxHoldMs;
        server = vertx.createHttpServer()
                .requestHandler(req -> req.body().onSuccess(body -> forward(req, body, targetPort, slow)))
                .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    private void forward(HttpServerRequest req, Buffer body, int targetPort, BiPredicate<String, String> slow) {
        boolean hold = slow.test(req.path(), body.toString());
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(req.headers()).remove("host").remove("content-length");
        RequestOptions o = new RequestOptions().setMethod(req.method()).setHost("127.0.0.1").setPort(targetPort)
                .setURI(req.uri()).setHeaders(headers);
        client.request(o).compose(r -> r.send(body)).compose(resp -> resp.body().map(b -> new Answer(resp, b)))
                .onFailure(e -> req.response().setStatusCode(502).end(e.toString()))
                .onSuccess(a -> {
                    if (!hold) {
                        a.send(req);
                        return;
                    }
                    delayed.incrementAndGet();
                    long until = System.nanoTime() + maxHoldMs * 1_000_000;
                    vertx.setPeriodic(50, id -> {
                        if (!release.getAsBoolean() && System.nanoTime() < until) return;
                        vertx.cancelTimer(id);
                        a.send(req);
                    });
                });
    }

    private record Answer(HttpClientResponse resp, Buffer body) {
        void send(HttpServerRequest req) {
            var out = req.response().setStatusCode(resp.statusCode());
            resp.headers().forEach((k, v) -> {
                if (!k.equalsIgnoreCase("content-length") && !k.equalsIgnoreCase("transfer-encoding")) out.putHeader(k, v);
            });
            out.end(body);
        }
    }

    int port() {
        return server.actualPort();
    }

    /** How many answers were held back. */
    int delayed() {
        return delayed.get();
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
