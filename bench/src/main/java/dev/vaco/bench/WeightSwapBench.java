package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The serving benchmark's weight pushes ({@code PUT /v1/weights}): the ~25M model idle and under concurrency 8, and a
 * model over 2 GB through temporary files on both sides.
 */
final class WeightSwapBench {
    private WeightSwapBench() {}

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
            ModelDir.copyTokenizer(ServingBench.LLAMA3_TOKENIZER, dir);
        }
        System.out.printf("%,d parameters, %.2f GB file, written in %.1f s%n", c.parameterCount(),
                Files.size(dir.resolve(ModelDir.WEIGHTS)) / 1e9, (System.nanoTime() - t) / 1e9);
        t = System.nanoTime();
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "large", ServingBench.TOKEN, c.parameterCount() * 4 + (16L << 20)),
                new EngineOptions(4, 4, 2, PolicyOptions.DEFAULT));
             PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), ServingBench.TOKEN)) {
            System.out.printf("server up in %.1f s (load included)%n", (System.nanoTime() - t) / 1e9);
            var w = ModelInit.random(c, 2);
            t = System.nanoTime();
            double swap = client.pushWeights(w, 1);
            System.out.printf("push of %.2f GB: %.1f s wall (client file + upload + server spool, parse, session), server swap_seconds %.1f; live version %d%n",
                    Safetensors.imageSize(w.tensors(), Map.of("format", "pt"), Safetensors.DType.F32) / 1e9,
                    (System.nanoTime() - t) / 1e9, swap, s.engine().liveVersion());
        }
    }

    static void swap(List<String> a) throws Exception {
        int rounds = Integer.parseInt(ServingBench.opt(a, "--rounds", "6"));
        ModelConfig c = ModelInit.benchConfig25m();
        Path dir = Path.of("/tmp/vaco-serving-bench", "25m");
        if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) ModelInit.init(dir, c, 1);
        System.out.println("machine: " + BenchMachine.cpuModel());
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
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "25m", ServingBench.TOKEN, 1L << 31),
                new EngineOptions(64, 1024, 4, po))) {
            long[] version = {0};
            String load = BenchMachine.waitForLoad();
            List<double[]> idle = new ArrayList<>(), chunked = new ArrayList<>();
            // baseline in the same run: without Content-Length the server aggregates the body and copies it out, as
            // every upload did before bodies were read straight into one array of their declared size
            for (int i = 0; i < rounds; i++) {
                idle.add(put(s, ++version[0], bodies.get(i), false));
                chunked.add(put(s, ++version[0], bodies.get(i), true));
            }
            report("idle", idle, load);
            report("idle, chunked upload (aggregated body)", chunked, load);
            load = BenchMachine.waitForLoad();
            List<double[]> busy = Collections.synchronizedList(new ArrayList<>());
            ServingLoop.Result r = ServingLoop.closedLoop(s, c, 8, 1, 64, 192, 5.0 + 2.5 * rounds, () -> new Thread(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        Thread.sleep(1500);
                        busy.add(put(s, ++version[0], bodies.get(rounds + i), false));
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }).start());
            report("during concurrency-8 generation (" + String.format("%.0f tokens/s meanwhile", r.tokensPerSecond()) + ")",
                    busy, load);
        }
    }

    /** @return {server swap_seconds, client wall seconds including upload} */
    static double[] put(Server s, long version, byte[] body, boolean chunked) throws Exception {
        return put(s.port(), version, chunked
                ? HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))
                : HttpRequest.BodyPublishers.ofByteArray(body));
    }

    /** @return {server swap_seconds, client wall seconds including upload} of a push to the server on {@code port} */
    static double[] put(int port, long version, HttpRequest.BodyPublisher body) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + "/v1/weights?version=" + version);
        HttpRequest req = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + ServingBench.TOKEN)
                .header("Content-Type", "application/octet-stream").PUT(body).build();
        long t0 = System.nanoTime();
        HttpResponse<String> resp = ServingLoop.HTTP.send(req, HttpResponse.BodyHandlers.ofString());
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
                what, load, BenchMachine.loadAverage1(), sw, wall, a2[a2.length / 2], b2[b2.length / 2], a2[a2.length - 1], b2[b2.length - 1]);
    }
}
