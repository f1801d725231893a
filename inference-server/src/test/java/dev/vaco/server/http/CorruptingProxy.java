package dev.vaco.server.http;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on loopback in front of a real inference server that spoils the weight chunks it relays: chunks
 * with an even index get one byte flipped, odd ones are cut short by a byte. Everything else passes unchanged. The
 * way to make a peer serve corrupt and truncated chunks without touching the product.
 */
final class CorruptingProxy implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final HttpClientAgent client = vertx.createHttpClient();
    private final HttpServer server;
    private final AtomicInteger spoiled = new AtomicInteger();

    CorruptingProxy(int targetPort) throws Exception {
        server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> forward(req, body, targetPort)))
                .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    private void forward(HttpServerRequest req, Buffer body, int targetPort) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(req.headers()).remove("host").remove("content-length");
        RequestOptions o = new RequestOptions().setMethod(req.method()).setHost("127.0.0.1").setPort(targetPort)
                .setURI(req.uri()).setHeaders(headers).setIdleTimeout(120_000);
        client.request(o).compose(r -> r.send(body)).compose(resp -> resp.body().map(b -> {
            Buffer out = b;
            if (resp.statusCode() == 200 && req.path().startsWith("/v1/weights/chunks/") && b.length() > 1) {
                spoiled.incrementAndGet();
                int index = Integer.parseInt(req.path().substring(req.path().lastIndexOf('/') + 1));
                if (index % 2 == 0) {
                    out = b.copy();
                    out.setByte(b.length() / 2, (byte) (b.getByte(b.length() / 2) ^ 0x40));
                } else {
                    out = b.getBuffer(0, b.length() - 1);
                }
            }
            req.response().setStatusCode(resp.statusCode()).putHeader("content-type", resp.getHeader("content-type") == null
                    ? "application/octet-stream" : resp.getHeader("content-type")).end(out);
            return out;
        })).onFailure(e -> req.response().setStatusCode(502).end(e.toString()));
    }

    int port() {
        return server.actualPort();
    }

    /** How many chunks were spoiled on their way through. */
    int spoiled() {
        return spoiled.get();
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
