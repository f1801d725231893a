package dev.vaco.trainer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The dashboard's HTTP server (Vert.x): the page, its bundled assets, the runs' metrics as JSON and as a server-sent
 * event stream, and the trainer's Prometheus {@code /metrics}.
 *
 * <pre>
 *   GET /                               the page (index.html; uPlot and the page's script from the jar, no network)
 *   GET /assets/NAME                    the bundled files
 *   GET /api/runs                       {"runs": [{"id", "dir", "live", "objective", "max_staleness", ...}]}
 *   GET /api/runs/RUN/metrics?from=N    {"run", "from", "next", "lines": [metrics.jsonl line N, N + 1, ...]}
 *   GET /api/runs/RUN/events?from=N     text/event-stream: "id: i / event: line / data: line i" for each line from N
 *                                       (or from Last-Event-ID + 1 on a reconnect) as it is written, and for the
 *                                       live run "event: status / data: {phase, in_flight_groups, servers, ...}"
 *   GET /metrics                        Prometheus text format ({@link TrainerMetrics})
 * </pre>
 * Bad input is a 4xx JSON body naming the field: {@code {"error": {"message", "type", "param"}}} (an unknown run: 404
 * {@code run}; a {@code from} that is not an integer >= 0, or an unknown query parameter: 400 naming it).
 *
 * <p>Every {@link #TICK_MS} ms the runs' files are read for new lines (one reader for all clients); a new learner
 * step reaches the page within a tick of its line being flushed.
 */
public final class DashboardServer implements AutoCloseable {
    static final long TICK_MS = 250;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEB = "/dev/vaco/trainer/dashboard/";
    /** The bundled files: name -> content type. */
    private static final Map<String, String> ASSETS = Map.of(
            "index.html", "text/html; charset=utf-8", "dashboard.js", "text/javascript; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8", "uPlot.iife.min.js", "text/javascript; charset=utf-8",
            "uPlot.min.css", "text/css; charset=utf-8", "uPlot.LICENSE", "text/plain; charset=utf-8");

    private final Vertx vertx;
    private final HttpServer http;
    private final Map<String, RunLog> runs = new LinkedHashMap<>();
    private final RunLog liveRun;
    private final Supplier<JsonNode> liveStatus;
    private final TrainerMetrics metrics;
    private final String url;
    private volatile String status = "{\"phase\": \"finished\"}";

    private DashboardServer(String host, int port, List<RunLog> logs, RunLog liveRun, Supplier<JsonNode> liveStatus) {
        for (RunLog l : logs) runs.put(l.id, l);
        this.liveRun = liveRun;
        this.liveStatus = liveStatus;
        this.metrics = new TrainerMetrics();
        VertxOptions options = new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                // a name of its own: under the default one, vertx-micrometer-metrics would hand this Vert.x the
                // registry of the first in the JVM (the embedded inference server's) and leave /metrics here empty
                .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
                        .setRegistryName("vaco-dashboard-" + java.util.UUID.randomUUID()));
        this.vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(metrics.registry)).build();
        Router router = Router.router(vertx);
        router.get("/").handler(ctx -> asset(ctx, "index.html"));
        router.get("/assets/:name").handler(ctx -> asset(ctx, ctx.pathParam("name")));
        router.get("/api/runs").handler(this::listRuns);
        router.get("/api/runs/:run/metrics").handler(ctx -> withRun(ctx, Set.of("from"), this::lines));
        router.get("/api/runs/:run/events").handler(ctx -> withRun(ctx, Set.of("from"), this::events));
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
        router.route().last().handler(ctx -> error(ctx, 404, "not_found_error",
                "no route for " + ctx.request().method() + " " + ctx.request().path(), null));
        router.errorHandler(500, ctx -> error(ctx, 500, "server_error", String.valueOf(ctx.failure()), null));
        tick();
        vertx.setPeriodic(TICK_MS, id -> vertx.executeBlocking(() -> {
            tick();
            return null;
        }));
        try {
            this.http = vertx.createHttpServer().requestHandler(router).listen(port, host)
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("dashboard: cannot listen on " + host + ":" + port + ": " + c.getMessage(), c);
        }
        this.url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + http.actualPort() + "/";
    }

    /** The page over finished (or running) runs, read from their directories. */
    public static DashboardServer over(String host, int port, List<RunDirs.Run> dirs) {
        return new DashboardServer(host, port, dirs.stream().map(d -> new RunLog(d.id(), d.dir())).toList(), null, null);
    }

    /** The page of the run in {@code dir} while it runs; {@code status} says what the pipeline is doing now. */
    static DashboardServer live(String host, int port, String id, java.nio.file.Path dir, Supplier<JsonNode> status) {
        RunLog log = new RunLog(id, dir);
        return new DashboardServer(host, port, List.of(log), log, status);
    }

    public String url() {
        return url;
    }

    public int port() {
        return http.actualPort();
    }

    /** Reads the runs' new lines (into the live run's gauges) and takes the live status; on a worker, not the loop. */
    private void tick() {
        for (RunLog r : runs.values()) {
            List<JsonNode> added = r.refresh();
            if (r == liveRun) added.forEach(metrics::line);
        }
        if (liveStatus == null) return;
        JsonNode s = liveStatus.get();
        if (s == null) return;
        metrics.status(s);
        status = s.toString();
    }

    private void listRuns(RoutingContext ctx) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode a = o.putArray("runs");
        for (RunLog r : runs.values()) a.add(r.info(r == liveRun));
        json(ctx, o);
    }

    /** Checks the run and the query (only {@code allowed} parameters; {@code from} an integer >= 0), then handles it. */
    private void withRun(RoutingContext ctx, Set<String> allowed, Handler handler) {
        RunLog run = runs.get(ctx.pathParam("run"));
        if (run == null) {
            error(ctx, 404, "not_found_error", "no run '" + ctx.pathParam("run") + "'; runs: " + String.join(", ", runs.keySet()), "run");
            return;
        }
        for (String name : ctx.queryParams().names()) {
            if (!allowed.contains(name)) {
                error(ctx, 400, "invalid_request_error", "unknown query parameter '" + name + "' (expected: " + allowed + ")", name);
                return;
            }
        }
        int from = 0;
        List<String> f = ctx.queryParam("from");
        if (f.size() > 1 || (f.size() == 1 && !f.get(0).matches("[0-9]{1,9}"))) {
            error(ctx, 400, "invalid_request_error", "from: expected one integer >= 0 (a line number), found " + f, "from");
            return;
        }
        if (f.size() == 1) from = Integer.parseInt(f.get(0));
        handler.handle(ctx, run, from);
    }

    private interface Handler {
        void handle(RoutingContext ctx, RunLog run, int from);
    }

    private void lines(RoutingContext ctx, RunLog run, int from) {
        ObjectNode o = JSON.createObjectNode().put("run", run.id).put("from", from);
        ArrayNode a = o.putArray("lines");
        int next = from;
        try {
            for (String l : run.since(from)) {
                a.add(JSON.readTree(l));
                next++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        json(ctx, o.put("next", Math.max(next, from)));
    }

    /** The stream: each line once, in order, as it is written; the live run's status when it changes. */
    private void events(RoutingContext ctx, RunLog run, int from) {
        String last = ctx.request().getHeader("Last-Event-ID");
        int start = last != null && last.matches("[0-9]{1,9}") ? Math.max(from, Integer.parseInt(last) + 1) : from;
        HttpServerResponse r = ctx.response().setChunked(true).putHeader("content-type", "text/event-stream")
                .putHeader("cache-control", "no-cache").putHeader("x-accel-buffering", "no");
        int[] next = {start};
        String[] sent = {null};
        Runnable push = () -> {
            StringBuilder b = new StringBuilder();
            for (String l : run.since(next[0])) b.append("id: ").append(next[0]++).append("\nevent: line\ndata: ").append(l).append("\n\n");
            if (run == liveRun && !status.equals(sent[0])) {
                sent[0] = status;
                b.append("event: status\ndata: ").append(status).append("\n\n");
            }
            if (b.length() > 0 && !r.closed()) r.write(b.toString());
        };
        r.write(": vaco dashboard\n\n");
        push.run();
        long timer = vertx.setPeriodic(TICK_MS, id -> push.run());
        r.closeHandler(v -> vertx.cancelTimer(timer));
    }

    private static void asset(RoutingContext ctx, String name) {
        String type = ASSETS.get(name);
        if (type == null) {
            error(ctx, 404, "not_found_error", "no asset '" + name + "'", "name");
            return;
        }
        ctx.response().putHeader("content-type", type).end(Buffer.buffer(BYTES.get(name)));
    }

    /** The assets' bytes, read from the jar once (not on the event loop at each request). */
    private static final Map<String, byte[]> BYTES = readAssets();

    private static Map<String, byte[]> readAssets() {
        Map<String, byte[]> out = new java.util.HashMap<>();
        for (String name : ASSETS.keySet()) {
            try (InputStream in = DashboardServer.class.getResourceAsStream(WEB + name)) {
                if (in == null) throw new IllegalStateException("asset " + name + " missing from the jar");
                out.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Map.copyOf(out);
    }

    private static void json(RoutingContext ctx, JsonNode o) {
        ctx.response().putHeader("content-type", "application/json").end(o.toString());
    }

    static void error(RoutingContext ctx, int status, String type, String message, String param) {
        ObjectNode err = JSON.createObjectNode();
        err.putObject("error").put("message", message).put("type", type).put("param", param);
        if (!ctx.response().headWritten()) ctx.response().setStatusCode(status);
        ctx.response().putHeader("content-type", "application/json").end(err.toString());
    }

    /** The final status reaches the page, then the server stops. */
    @Override
    public void close() {
        if (liveStatus != null) {
            tick();
            try {
                Thread.sleep(3 * TICK_MS); // the streams' timers send the last lines and "finished": the page stops listening
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing: nothing left to serve
        }
    }
}
