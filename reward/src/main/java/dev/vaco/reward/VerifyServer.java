package dev.vaco.reward;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * HTTP front of the verifier: {@code POST /v1/verify} (batch) and {@code GET /health}.
 * Verification is blocking CPU work, so it runs via executeBlocking on the worker pool, never on the event loop.
 */
public final class VerifyServer extends VerticleBase {
    static final int MAX_ITEMS = 10_000;
    static final long MAX_BODY_BYTES = 32L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final VerifierConfig config;
    private final int port;
    private final String host;
    private Verifier lenient;
    private Verifier strict;
    private HttpServer server;

    /** Binds to loopback; use the three-argument form to expose the service. */
    public VerifyServer(VerifierConfig config, int port) {
        this(config, "127.0.0.1", port);
    }

    public VerifyServer(VerifierConfig config, String host, int port) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: expected an interface address, found " + host);
        }
        this.host = host;
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: expected 0..65535, found " + port);
        }
        this.config = config;
        this.port = port;
    }

    /** The bound port (useful when constructed with port 0). */
    public int actualPort() {
        return server == null ? -1 : server.actualPort();
    }

    @Override
    public Future<?> start() {
        lenient = new Verifier(config.withStrict(false));
        strict = new Verifier(config.withStrict(true));
        Router router = Router.router(vertx);
        router.get("/health").handler(ctx -> ctx.response().putHeader("content-type", "application/json")
                .end("{\"status\":\"ok\",\"version\":\"" + Verifier.VERSION + "\"}"));
        router.post("/v1/verify").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES)).handler(this::verify);
        return vertx.createHttpServer().requestHandler(router).listen(port, host).onSuccess(s -> server = s);
    }

    @Override
    public Future<?> stop() {
        if (lenient != null) {
            lenient.close();
            strict.close();
        }
        return server == null ? Future.succeededFuture() : server.close();
    }

    record Item(String gold, String pred) {
    }

    record Request(List<Item> items, boolean strict, boolean goldExtracted) {
    }

    static final class BadRequest extends Exception {
        final String field;

        BadRequest(String message, String field) {
            super(message, null, false, false);
            this.field = field;
        }
    }

    private void verify(RoutingContext ctx) {
        Request req;
        try {
            // lenient decoding: invalid UTF-8 in a model output becomes U+FFFD, not a rejected batch
            String body = ctx.body().buffer() == null ? "" : new String(ctx.body().buffer().getBytes(), StandardCharsets.UTF_8);
            req = parse(body);
        } catch (BadRequest e) {
            error(ctx, 400, e.getMessage(), e.field);
            return;
        }
        Verifier v = req.strict() ? strict : lenient;
        vertx.executeBlocking(() -> {
            ArrayNode out = JSON.createArrayNode();
            for (Item it : req.items()) {
                Verdict verdict = req.goldExtracted() ? v.verifyGold(it.gold(), it.pred()) : v.verify(it.gold(), it.pred());
                ObjectNode o = out.addObject();
                VerifyTool.putVerdict(o, verdict);
            }
            ObjectNode res = JSON.createObjectNode();
            res.put("version", Verifier.VERSION);
            res.set("verdicts", out);
            return JSON.writeValueAsString(res);
        }, false).onComplete(ar -> {
            if (ar.succeeded()) {
                ctx.response().putHeader("content-type", "application/json").end(ar.result());
            } else {
                error(ctx, 500, "verification failed: " + ar.cause(), null);
            }
        });
    }

    static Request parse(String body) throws BadRequest {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (Exception e) {
            throw new BadRequest("body is not valid JSON", null);
        }
        if (root == null || !root.isObject()) {
            throw new BadRequest("expected a JSON object", null);
        }
        JsonNode items = root.get("items");
        if (items == null || !items.isArray()) {
            throw new BadRequest("expected an array of {gold, pred} objects", "items");
        }
        if (items.size() > MAX_ITEMS) {
            throw new BadRequest("expected at most " + MAX_ITEMS + " items, found " + items.size(), "items");
        }
        boolean strict = bool(root, "strict");
        boolean goldExtracted = bool(root, "gold_extracted");
        List<Item> list = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            JsonNode it = items.get(i);
            if (!it.isObject()) {
                throw new BadRequest("expected an object", "items[" + i + "]");
            }
            list.add(new Item(str(it, "gold", i), str(it, "pred", i)));
        }
        return new Request(list, strict, goldExtracted);
    }

    private static boolean bool(JsonNode root, String field) throws BadRequest {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new BadRequest("expected a boolean, found " + n.getNodeType().name().toLowerCase(), field);
        }
        return n.asBoolean();
    }

    private static String str(JsonNode item, String field, int i) throws BadRequest {
        JsonNode n = item.get(field);
        String path = "items[" + i + "]." + field;
        if (n == null || n.isNull()) {
            throw new BadRequest("missing", path);
        }
        if (n.isNumber()) {
            return n.asText();
        }
        if (!n.isTextual()) {
            throw new BadRequest("expected a string, found " + n.getNodeType().name().toLowerCase(), path);
        }
        return n.asText();
    }

    private static void error(RoutingContext ctx, int code, String message, String field) {
        ObjectNode err = JSON.createObjectNode();
        ObjectNode e = err.putObject("error");
        e.put("message", message);
        e.put("field", field);
        ctx.response().setStatusCode(code).putHeader("content-type", "application/json").end(err.toString());
    }
}
