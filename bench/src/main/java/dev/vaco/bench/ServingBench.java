package dev.vaco.bench;

import ai.onnxruntime.OrtException;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serving benchmark of the inference server through its real HTTP API on loopback ({@code POST /v1/generate},
 * {@code PUT /v1/weights}), with the fp32 matmul ceiling and the PyTorch eager baseline measured in the same run.
 *
 * <pre>
 * cd /work/main
 * mvn -o -q -pl bench -am package -DskipTests
 * CP=bench/target/classes:$(cat bench/target/classpath.txt)
 * # 1 + 3: tokens/s at concurrency 1, 8, 64 (tiny and ~25M), then the PyTorch eager baseline on the same model dirs
 * java -cp $CP dev.vaco.bench.ServingBench serving --models tiny,25m --torch
 * # the RL shape: C sequences as C / 8 prompts of 8 samples each (a group shares its prompt's prefill)
 * java -cp $CP dev.vaco.bench.ServingBench serving --models 25m --levels 64 --n 8
 * # 2: weight-swap time of the ~25M model, idle and under concurrency 8
 * java -cp $CP dev.vaco.bench.ServingBench swap [--no-spin]
 * # 4: vaco at concurrency 1 on the Llama-3-tokenizer model dir that Jlama also runs (see docs/bench/serving.md)
 * # a weight push over 2 GB (0.54B parameters, fp32), through files on both sides; needs ~10 GB of RAM
 * java -XX:MaxRAMPercentage=75 -cp $CP dev.vaco.bench.ServingBench large-swap [DIR]
 * java -cp $CP dev.vaco.bench.ServingBench init-llama3 /tmp/jlama-bench/model
 * java -cp $CP dev.vaco.bench.ServingBench serving --dir /tmp/jlama-bench/model --levels 1 --prompt 15 --completion 128
 * # the PyTorch baseline runs the same network: greedy continuations of the server and of the script agree
 * java -cp $CP dev.vaco.bench.ServingBench check-torch /tmp/vaco-serving-bench/25m
 * </pre>
 *
 * Workload: prompts of random token ids (prompt {@code --prompt} tokens, default 64; request i uses seed i), temperature 1,
 * {@code ignore_eos: true}, {@code max_tokens} = {@code --completion} (default 192), so contexts span 64-256. A closed loop
 * keeps exactly C requests outstanding (java.net.http, async). After warm-up (max(2, C) completed requests) a window of
 * {@code --window} seconds (default 20) is timed: tokens/s is the server's generated-token counter over the window
 * (every sampled token, including those of requests that finish after it); the tokens of responses received in the window
 * are printed as a cross-check. TTFT is the server's {@code timing.time_to_first_token_s} (queueing + prefill) of the
 * requests submitted in the window.
 *
 * GFLOP/s counts matmuls only ({@link ModelConfig#matmulFlopsPerToken()}, lm_head included, attention excluded), against
 * the fp32 ORT MatMul ceiling (n = 1024 and 2048, 2 threads, prepacked B, as OrtBench) measured before every model's rows
 * and, with {@code --torch}, against the baseline torch's own ceiling measured the same way (its BLAS: the ceiling the
 * PyTorch loop's efficiency is usually quoted against, about half of MLAS's on this AVX-512 machine).
 * Before every measurement the 1-minute load average is checked; above 2.5 the harness waits (30 s polls, 10 min at most)
 * and prints the load it measured under ({@code -Dbench.maxLoad=N} changes the threshold, e.g. for a smoke test).
 */
public final class ServingBench {
    static final String TOKEN = "bench-token";
    /** Sampling temperature of every request: 1 unless {@code -Dbench.temperature=T}. */
    static final double TEMPERATURE = Double.parseDouble(System.getProperty("bench.temperature", "1"));
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    public static void main(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("usage: serving|swap|large-swap|init-llama3 ...");
        List<String> a = Arrays.asList(args);
        switch (args[0]) {
            case "serving" -> serving(a);
            case "swap" -> swap(a);
            case "large-swap" -> largeSwap(Path.of(args.length > 1 ? args[1] : "/tmp/vaco-large-model"));
            case "init-llama3" -> initLlama3(Path.of(args[1]));
            case "check-torch" -> checkTorch(Path.of(args[1]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    static String opt(List<String> a, String name, String dflt) {
        int i = a.indexOf(name);
        return i >= 0 ? a.get(i + 1) : dflt;
    }

    // ------------------------------------------------------------------ 1 + 3: serving throughput

    static void serving(List<String> a) throws Exception {
        int prompt = Integer.parseInt(opt(a, "--prompt", "64"));
        int completion = Integer.parseInt(opt(a, "--completion", "192"));
        double window = Double.parseDouble(opt(a, "--window", "20"));
        int[] levels = Arrays.stream(opt(a, "--levels", "1,8,64").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean torch = a.contains("--torch");
        // n samples per request (the RL shape: a group of n answers to one prompt shares its prefill); C counts
        // sequences, so C / n requests are kept in flight
        int n = Integer.parseInt(opt(a, "--n", "1"));
        for (int l : levels) {
            if (l % n != 0) throw new IllegalArgumentException("--levels: " + l + " is not a multiple of --n " + n);
        }
        List<Map.Entry<String, Path>> dirs = new ArrayList<>();
        if (opt(a, "--dir", null) != null) {
            Path d = Path.of(opt(a, "--dir", null));
            dirs.add(Map.entry(d.getFileName().toString(), d));
        } else {
            for (String m : opt(a, "--models", "tiny,25m").split(",")) {
                ModelConfig c = m.equals("tiny") ? ModelInit.tinyConfig() : ModelInit.benchConfig25m();
                Path d = Path.of("/tmp/vaco-serving-bench", m);
                if (!Files.isRegularFile(d.resolve(ModelDir.WEIGHTS))) ModelInit.init(d, c, 1);
                dirs.add(Map.entry(m, d));
            }
        }
        System.out.println("machine: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores; java "
                + System.getProperty("java.version") + "; prompt " + prompt + " random ids, max_tokens " + completion
                + ", temperature " + TEMPERATURE + ", ignore_eos, n " + n + " samples per request, window " + window + " s");
        List<String> table = new ArrayList<>();
        List<String> torchOut = new ArrayList<>();
        for (var e : dirs) {
            String name = e.getKey();
            Path dir = e.getValue();
            ModelConfig c = ModelDir.config(dir);
            String load = waitForLoad();
            double ceiling = matmulCeiling();
            // The baseline's own BLAS, measured the same way: the ceiling that the developers' guide's "~100 GFLOP/s
            // per core" and the PyTorch loop's "~7%" refer to (MLAS reaches about twice it on this AVX-512 machine).
            double torchCeiling = torch ? torchCeiling() : Double.NaN;
            System.out.printf("[%s] %.1fM params, matmul FLOPs/token %.1f M, ceiling %.1f GFLOP/s (ORT), %.1f (PyTorch) (load %s)%n",
                    name, c.parameterCount() / 1e6, c.matmulFlopsPerToken() / 1e6, ceiling, torchCeiling, load);
            int maxRows = Math.max(64, Arrays.stream(levels).max().orElse(1));
            try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, name, TOKEN, 1L << 31),
                    new GenerationEngine.Options(maxRows, 1024, 4, PolicyOptions.DEFAULT))) {
                for (int conc : levels) {
                    load = waitForLoad();
                    Result r = closedLoop(s, c, conc / n, n, prompt, completion, window, null);
                    double gf = r.tokensPerSecond * c.matmulFlopsPerToken() / 1e9;
                    // All matmul work: every request brings `prompt` prompt tokens per n x `completion` generated ones
                    // (the server's prompt counter moves in lumps as waves of requests are admitted, so the workload's
                    // ratio is used); prompt tokens run every matmul but lm_head (logits only after the last one).
                    double promptFlops = c.matmulFlopsPerToken() - 2.0 * c.vocabSize() * c.hiddenSize();
                    double all = gf + r.tokensPerSecond * prompt / ((double) completion * n) * promptFlops / 1e9;
                    String row = String.format("| %s | %d | %.0f | %.0f | %.3f | %.3f | %.1f | %.1f | %.0f%% | %.0f%% | %.1f | %.0f%% | %.0f%% | %.1f | %s |",
                            name, conc, r.tokensPerSecond, r.clientTokensPerSecond, r.ttftP50, r.ttftP99, gf, ceiling,
                            100 * gf / ceiling, 100 * all / ceiling, torchCeiling, 100 * gf / torchCeiling,
                            100 * r.decodeShare, r.tokensPerStep, load + " / " + loadAverage1());
                    System.out.println(row);
                    table.add(row);
                }
            }
            if (torch) {
                String l = waitForLoad();
                List<String> out = runTorch(dir, prompt, completion, levels);
                for (String line : out) torchOut.add(name + " (load " + l + "): " + line);
            }
        }
        System.out.println();
        System.out.println("| model | concurrency | tokens/s (server counter) | tokens/s (responses) | TTFT p50 s | TTFT p99 s"
                + " | matmul GFLOP/s | ORT ceiling GFLOP/s | % of ORT ceiling | % of ORT ceiling, prompt tokens included"
                + " | PyTorch ceiling GFLOP/s | % of PyTorch ceiling | time in decode steps | tokens/step | load before / after |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        table.forEach(System.out::println);
        if (!torchOut.isEmpty()) {
            System.out.println("\nPyTorch eager baseline (same weights, same prompt/completion lengths):");
            torchOut.forEach(System.out::println);
        }
    }

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
     */
    /** {@code conc} requests of {@code n} samples each kept in flight. */
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

    /** The fp32 matmul ceiling of the baseline's torch (its BLAS), measured by the baseline script the same way. */
    static double torchCeiling() throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", torchScript().toString(), "--ceiling")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("torch ceiling failed: " + out);
        return new JsonObject(out.substring(out.lastIndexOf('{'))).getDouble("ceiling_gflops");
    }

    static Path torchScript() {
        return BenchScripts.python("torch_generate_baseline.py");
    }

    static List<String> runTorch(Path dir, int prompt, int completion, int[] levels) throws Exception {
        Path script = torchScript();
        StringBuilder b = new StringBuilder();
        for (int l : levels) b.append(b.isEmpty() ? "" : ",").append(l);
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", script.toString(), "--model-dir", dir.toString(),
                "--batches", b.toString(), "--prompt-len", Integer.toString(prompt), "--new-tokens", Integer.toString(completion));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println("  torch: " + line);
                if (line.startsWith("{")) out.add(line);
            }
        }
        if (p.waitFor() != 0) throw new IllegalStateException("torch baseline failed: exit " + p.exitValue());
        return out;
    }

    /**
     * A 0.54B-parameter Llama (2.16 GB fp32, over the 2 GB of one Java array) with the shared Llama 3 tokenizer: the
     * model directory is written (streamed), a server loads it, and a push of new weights goes through temporary
     * files on both sides. Prints the times.
     */
    static void largeSwap(Path dir) throws Exception {
        ModelConfig c = new ModelConfig("llama", 128256, 1024, 4096, 26, 16, 8, 64, 1e-5, 500000.0, 512, true, false,
                128000, 128001);
        long t = System.nanoTime();
        if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) {
            ModelInit.init(dir, c, 1);
            ModelDir.copyTokenizer(LLAMA3_TOKENIZER, dir);
        }
        System.out.printf("%,d parameters, %.2f GB file, written in %.1f s%n", c.parameterCount(),
                Files.size(dir.resolve(ModelDir.WEIGHTS)) / 1e9, (System.nanoTime() - t) / 1e9);
        t = System.nanoTime();
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "large", TOKEN, c.parameterCount() * 4 + (16L << 20)),
                new GenerationEngine.Options(4, 4, 2, PolicyOptions.DEFAULT));
             PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), TOKEN)) {
            System.out.printf("server up in %.1f s (load included)%n", (System.nanoTime() - t) / 1e9);
            var w = ModelInit.random(c, 2);
            t = System.nanoTime();
            double swap = client.pushWeights(w, 1);
            System.out.printf("push of %.2f GB: %.1f s wall (client file + upload + server spool, parse, session), server swap_seconds %.1f; live version %d%n",
                    Safetensors.imageSize(w.tensors(), Map.of("format", "pt"), Safetensors.DType.F32) / 1e9,
                    (System.nanoTime() - t) / 1e9, swap, s.engine().liveVersion());
        }
    }

    /** Greedy (temperature 0) 32-token continuations of 3 prompts by the server and by the PyTorch script. */
    static void checkTorch(Path dir) throws Exception {
        ModelConfig c = ModelDir.config(dir);
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "check", TOKEN, 1L << 31),
                new GenerationEngine.Options(8, 16, 1, PolicyOptions.DEFAULT))) {
            for (int id = 0; id < 3; id++) {
                JsonObject req = new JsonObject(body(c, id, 64, 32, 1)).put("temperature", 0.0);
                HttpResponse<String> resp = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/generate"))
                        .POST(HttpRequest.BodyPublishers.ofString(req.encode())).build(), HttpResponse.BodyHandlers.ofString());
                JsonArray vaco = new JsonObject(resp.body()).getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids");
                StringBuilder ids = new StringBuilder();
                for (Object o : req.getJsonArray("prompt_token_ids")) ids.append(ids.isEmpty() ? "" : ",").append(o);
                Process p = new ProcessBuilder("/usr/bin/python3", torchScript().toString(), "--model-dir", dir.toString(),
                        "--check-prompt", ids.toString(), "--check-tokens", "32").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                p.waitFor();
                JsonArray torch = new JsonObject(out.substring(out.lastIndexOf('{'))).getJsonArray("check_tokens");
                int same = 0;
                while (same < vaco.size() && same < torch.size() && vaco.getInteger(same).equals(torch.getInteger(same))) same++;
                System.out.printf("prompt %d: first %d of 32 greedy tokens identical%n  vaco  %s%n  torch %s%n", id, same, vaco, torch);
            }
        }
    }

    // ------------------------------------------------------------------ 2: weight swap

    static void swap(List<String> a) throws Exception {
        int rounds = Integer.parseInt(opt(a, "--rounds", "6"));
        ModelConfig c = ModelInit.benchConfig25m();
        Path dir = Path.of("/tmp/vaco-serving-bench", "25m");
        if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) ModelInit.init(dir, c, 1);
        System.out.println("machine: " + cpuModel());
        // the bodies are serialised before any timing: the trainer has its bytes ready when it pushes
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 2 * rounds; i++) {
            ByteBuffer img = Safetensors.toBytes(ModelInit.random(c, 100 + i).tensors(), Map.of(), Safetensors.DType.F32);
            byte[] bytes = new byte[img.remaining()];
            img.get(bytes);
            bodies.add(bytes);
        }
        System.out.printf("body: %.1f MB (%.1fM params, F32)%n", bodies.get(0).length / 1e6, c.parameterCount() / 1e6);
        // --no-spin: ORT intra-op pool threads do not spin between ops (PolicyOptions.allowSpinning = false)
        PolicyOptions po = a.contains("--no-spin") ? PolicyOptions.DEFAULT.withSpinning(false) : PolicyOptions.DEFAULT;
        System.out.println("session options: allow_spinning=" + po.allowSpinning());
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "25m", TOKEN, 1L << 31),
                new GenerationEngine.Options(64, 1024, 4, po))) {
            long[] version = {0};
            String load = waitForLoad();
            List<double[]> idle = new ArrayList<>(), chunked = new ArrayList<>();
            // baseline in the same run: without Content-Length the server aggregates the body and copies it out, as
            // every upload did before bodies were read straight into one array of their declared size
            for (int i = 0; i < rounds; i++) {
                idle.add(put(s, ++version[0], bodies.get(i), false));
                chunked.add(put(s, ++version[0], bodies.get(i), true));
            }
            report("idle", idle, load);
            report("idle, chunked upload (aggregated body)", chunked, load);
            load = waitForLoad();
            List<double[]> busy = Collections.synchronizedList(new ArrayList<>());
            Result r = closedLoop(s, c, 8, 1, 64, 192, 5.0 + 2.5 * rounds, () -> new Thread(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        Thread.sleep(1500);
                        busy.add(put(s, ++version[0], bodies.get(rounds + i), false));
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }).start());
            report("during concurrency-8 generation (" + String.format("%.0f tokens/s meanwhile", r.tokensPerSecond) + ")",
                    busy, load);
        }
    }

    /** @return {server swap_seconds, client wall seconds including upload} */
    static double[] put(Server s, long version, byte[] body, boolean chunked) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + s.port() + "/v1/weights?version=" + version);
        HttpRequest req = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/octet-stream").PUT(chunked
                        ? HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))
                        : HttpRequest.BodyPublishers.ofByteArray(body)).build();
        long t0 = System.nanoTime();
        HttpResponse<String> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        double wall = (System.nanoTime() - t0) / 1e9;
        if (resp.statusCode() != 200) throw new IllegalStateException("PUT /v1/weights: HTTP " + resp.statusCode() + " " + resp.body());
        JsonObject j = new JsonObject(resp.body());
        return new double[] {j.getDouble("swap_seconds"), wall};
    }

    static void report(String what, List<double[]> xs, String load) {
        StringBuilder sw = new StringBuilder(), wall = new StringBuilder();
        double[] a = new double[xs.size()], b = new double[xs.size()];
        for (int i = 0; i < xs.size(); i++) {
            a[i] = xs.get(i)[0];
            b[i] = xs.get(i)[1];
            sw.append(String.format(" %.3f", a[i]));
            wall.append(String.format(" %.3f", b[i]));
        }
        double[] a2 = Arrays.copyOfRange(a, 1, a.length), b2 = Arrays.copyOfRange(b, 1, b.length);
        Arrays.sort(a2);
        Arrays.sort(b2);
        System.out.printf("swap %s (load %s / %s): swap_seconds [%s ] client wall [%s ]; excluding the first: median %.3f / %.3f s, max %.3f / %.3f s%n",
                what, load, loadAverage1(), sw, wall, a2[a2.length / 2], b2[b2.length / 2], a2[a2.length - 1], b2[b2.length - 1]);
    }

    // ------------------------------------------------------------------ 4: the Llama-3-tokenizer model dir

    /** The shared Llama 3 tokenizer (../shared beside this repository). */
    static final Path LLAMA3_TOKENIZER = Path.of("/work/shared/models/llama3-tokenizer");

    static void initLlama3(Path dir) throws Exception {
        ModelConfig c = new ModelConfig("llama", 128256, 512, 1536, 8, 8, 4, 64, 1e-5, 500000.0, 512, true, false, 128000, 128001);
        ModelInit.init(dir, c, 1);
        ModelDir.copyTokenizer(LLAMA3_TOKENIZER, dir);
        System.out.printf("wrote %s: %.1fM params, matmul FLOPs/token %.1f M%n", dir, c.parameterCount() / 1e6,
                c.matmulFlopsPerToken() / 1e6);
    }

    // ------------------------------------------------------------------ ceiling, load

    /**
     * OrtBench's ceiling: best of 6 timed ORT MatMuls of n x n fp32 (n = 1024, 2048), B a prepacked initializer; the
     * ceiling exactly as the engine benchmark measures it, so the two documents compare like with like.
     */
    static double matmulCeiling() throws OrtException {
        return OrtBench.matmulCeiling();
    }

    /** Waits while the 1-minute load is above 2.5 (30 s polls, 10 minutes at most); returns the load measured under. */
    static String waitForLoad() throws InterruptedException {
        long deadline = System.nanoTime() + 600_000_000_000L;
        double max = Double.parseDouble(System.getProperty("bench.maxLoad", "2.5"));
        double l = loadAverage1();
        while (l > max && System.nanoTime() < deadline) {
            System.out.printf("  load %.2f > %.1f, waiting 30 s%n", l, max);
            Thread.sleep(30_000);
            l = loadAverage1();
        }
        return String.format("%.2f", l);
    }

    static double loadAverage1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // fall through
        }
        return "unknown";
    }
}
