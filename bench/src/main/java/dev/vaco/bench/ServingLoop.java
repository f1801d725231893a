package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.server.Server;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The serving benchmark's workload and driver: requests of random prompts kept in flight in a closed loop. */
final class ServingLoop {
    private ServingLoop() {}

    /** Sampling temperature of every request: 1 unless {@code -Dbench.temperature=T}. */
    static final double TEMPERATURE = Double.parseDouble(System.getProperty("bench.temperature", "1"));
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();


    /**
     * @param decodeShare   share of the window spent inside decode steps (OrtPolicy.decode), from the server's metrics;
     *                      the rest is admission prefill, sampling, HTTP and idle time
     * @param tokensPerStep generated tokens per decode step in the window (~ mean batch rows)
     */
    record Result(double tokensPerSecond, double clientTokensPerSecond, double ttftP50, double ttftP99, int requests,
                  double decodeShare, double tokensPerStep) {}

    /**
     * Keeps exactly {@code conc} requests in flight. Warm-up until max(2, conc) requests completed, then times
     * {@code window} seconds, then stops issuing and drains. {@code duringWindow}, if given, runs once the window opens.
     * {@code conc} requests of {@code n} samples each kept in flight.
     */
    static Result closedLoop(Server s, ModelConfig c, int conc, int n, int promptLen, int completion, double window,
                             Runnable duringWindow) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + s.port() + "/v1/generate");
        AtomicInteger nextId = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        AtomicBoolean issuing = new AtomicBoolean(true);
        AtomicLong windowStart = new AtomicLong(Long.MAX_VALUE), windowEnd = new AtomicLong(Long.MAX_VALUE);
        AtomicLong clientTokens = new AtomicLong();
        ConcurrentLinkedQueue<Double> ttfts = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger inFlight = new AtomicInteger();
        Object lock = new Object();

        Runnable[] issue = new Runnable[1];
        issue[0] = () -> {
            int id = nextId.getAndIncrement();
            long submitted = System.nanoTime();
            inFlight.incrementAndGet();
            HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body(c, id, promptLen, completion, n))).build();
            HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, err) -> {
                long now = System.nanoTime();
                try {
                    if (err != null) throw err;
                    if (resp.statusCode() != 200) throw new IllegalStateException("HTTP " + resp.statusCode() + ": " + resp.body());
                    JsonObject j = new JsonObject(resp.body());
                    int toks = 0;
                    for (Object o : j.getJsonArray("samples")) toks += ((JsonObject) o).getJsonArray("token_ids").size();
                    if (toks != completion * n) throw new IllegalStateException("expected " + completion * n + " tokens, got " + toks);
                    if (now >= windowStart.get() && now <= windowEnd.get()) clientTokens.addAndGet(toks);
                    if (submitted >= windowStart.get() && submitted <= windowEnd.get()) {
                        ttfts.add(j.getJsonObject("timing").getDouble("time_to_first_token_s"));
                    }
                    completed.incrementAndGet();
                } catch (Throwable t) {
                    errors.add(t);
                }
                inFlight.decrementAndGet();
                if (issuing.get() && errors.isEmpty()) issue[0].run();
                synchronized (lock) {
                    lock.notifyAll();
                }
            });
        };
        for (int i = 0; i < conc; i++) issue[0].run();
        int warm = Math.max(2, conc);
        synchronized (lock) {
            while (completed.get() < warm && errors.isEmpty()) lock.wait(100);
        }
        if (!errors.isEmpty()) throw new IllegalStateException("request failed", errors.peek());
        long tok0 = s.metrics().generatedTokens.sum();
        long steps0 = s.metrics().decodeSteps.sum();
        double dec0 = s.metrics().decodeSeconds.sum();
        long t0 = System.nanoTime();
        windowStart.set(t0);
        if (duringWindow != null) duringWindow.run();
        while (System.nanoTime() - t0 < window * 1e9) Thread.sleep(10);
        long t1 = System.nanoTime();
        windowEnd.set(t1);
        long tok1 = s.metrics().generatedTokens.sum();
        long steps1 = s.metrics().decodeSteps.sum();
        double dec1 = s.metrics().decodeSeconds.sum();
        issuing.set(false);
        synchronized (lock) {
            while (inFlight.get() > 0 && errors.isEmpty()) lock.wait(100);
        }
        if (!errors.isEmpty()) throw new IllegalStateException("request failed", errors.peek());
        double secs = (t1 - t0) / 1e9;
        List<Double> tt = new ArrayList<>(ttfts);
        Collections.sort(tt);
        double p50 = tt.isEmpty() ? Double.NaN : tt.get((int) Math.floor(0.5 * (tt.size() - 1)));
        double p99 = tt.isEmpty() ? Double.NaN : tt.get((int) Math.ceil(0.99 * (tt.size() - 1)));
        return new Result((tok1 - tok0) / secs, clientTokens.get() / secs, p50, p99, tt.size(), (dec1 - dec0) / secs,
                steps1 > steps0 ? (double) (tok1 - tok0) / (steps1 - steps0) : 0);
    }

    /** Request {@code id}: a prompt of random token ids from seed {@code id}, sampling seed {@code id}. */
    static String body(ModelConfig c, int id, int promptLen, int completion, int n) {
        SplittableRandom r = new SplittableRandom(1000 + id);
        JsonArray p = new JsonArray();
        for (int i = 0; i < promptLen; i++) p.add(r.nextInt(c.vocabSize()));
        return new JsonObject().put("prompt_token_ids", p).put("n", n).put("temperature", TEMPERATURE).put("max_tokens", completion)
                .put("seed", id).put("ignore_eos", true).encode();
    }
}
