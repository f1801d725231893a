package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.server.engine.RandomAdapters;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraMerge;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.engine.AdapterInputs;
import dev.vaco.server.engine.GraphOptions;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.server.metrics.ServerMetrics;

import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The server's side of LoRA on the 25M benchmark model (or {@code --model 0.5b}, the Qwen2-shaped one), an adapter of r = 16, all seven projections, on a server with
 * {@code --max-lora-rank 16}: (1) push-to-live of a new version through {@code PUT /v1/weights} (client wall time:
 * upload, parse, install, swap), full weights against an adapter image alternating, then adapter pushes in a row; (2) resident memory with 4 resident versions, full against adapter, each mode in
 * its own JVM ({@code VmRSS} after the engine started and after 3 more versions); (3) decode tokens/s with the adapter
 * as graph inputs against the merged weights in a plain session, at batch 1 and 16 (ORT alone: prefill 32 tokens,
 * then timed decode steps).
 *
 * <pre>
 * mvn -o -q -pl bench -am package -DskipTests
 * java -cp bench/target/classes:$(cat bench/target/classpath.txt) dev.vaco.bench.AdapterServingBench [--model 25m|0.5b] [--rounds 6] [--steps 64]
 *   [--phases push,memory,serving]
 * </pre>
 */
public final class AdapterServingBench {
    static final LoraConfig LORA = new LoraConfig(16, 32, 0.0, LoraConfig.ALL_LINEAR, false, false);

    private AdapterServingBench() {}

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        int rounds = Integer.parseInt(ServingBench.opt(a, "--rounds", "6"));
        int steps = Integer.parseInt(ServingBench.opt(a, "--steps", "64"));
        String model = ServingBench.opt(a, "--model", "25m");
        ModelConfig c = AdapterBench.config(model);
        Path dir = modelDir(model);
        if (a.contains("--child")) {
            String child = ServingBench.opt(a, "--child", "full");
            if (child.equals("server")) server(dir, Integer.parseInt(ServingBench.opt(a, "--keep", "4")));
            else memory(c, dir, child);
            return;
        }
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores; load " + BenchMachine.waitForLoad());
        List<String> phases = List.of(ServingBench.opt(a, "--phases", "push,memory,serving").split(","));
        if (phases.contains("push")) push(c, dir, model, rounds);
        for (String mode : phases.contains("memory") ? new String[] {"full", "adapter"} : new String[0]) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + Runtime.getRuntime().maxMemory() / (1 << 20) + "m", "-cp", System.getProperty("java.class.path"),
                    AdapterServingBench.class.getName(), "--child", mode, "--model", model);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            System.out.print(out);
            // a child killed for memory (a 0.5B model's 4 full versions may not fit beside other work) has printed
            // the versions it reached; the other mode still runs
            if (p.waitFor() != 0) System.out.println(mode + ": the child exited with " + p.exitValue());
        }
        if (phases.contains("serving")) serving(c, steps);
    }

    /** The benchmark model's directory, written once (the 0.5B one with the shared Qwen3 tokenizer). */
    private static Path modelDir(String model) throws java.io.IOException {
        Path dir = Path.of("/tmp/vaco-serving-bench", model);
        if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) {
            ModelInit.init(dir, AdapterBench.config(model), 1);
            if (model.equals("0.5b")) ModelDir.copyTokenizer(FleetBench.QWEN3_TOKENIZER, dir);
        }
        return dir;
    }

    /** r = 16 random A and B in PEFT's names. */
    static Map<String, Tensor> adapter(ModelConfig c, long seed) {
        return RandomAdapters.of(c, LORA, seed);
    }

    private static byte[] image(Iterable<Tensor> tensors) {
        List<Tensor> list = new ArrayList<>();
        tensors.forEach(list::add);
        ByteBuffer b = Safetensors.toBytes(list, Map.of(), Safetensors.DType.F32);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static PolicyOptions loraOptions(int rank) {
        return PolicyOptions.DEFAULT.withGraph(GraphOptions.DEFAULT.withLoraRank(rank));
    }

    /**
     * Full pushes and adapter pushes alternating on one LoRA server, then adapter pushes in a row. The server runs in a
     * JVM of its own and the bodies are read from files, so that neither the bodies nor the client share the server's
     * memory: a 0.5B full image is 1.98 GB, and an in-process server with its staged version and the bodies in one heap
     * was OOM-killed at 20 GB on this 23 GB machine.
     */
    private static void push(ModelConfig c, Path dir, String model, int rounds) throws Exception {
        // above 100M parameters one full image is sent each time (writing several 2 GB files adds nothing)
        boolean large = c.parameterCount() > 100_000_000L;
        List<Path> full = new ArrayList<>();
        List<byte[]> adapters = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            Path f = dir.resolve("push-" + (large ? 0 : i) + ".safetensors");
            if (!Files.isRegularFile(f)) Files.write(f, image(ModelInit.random(c, 100 + i).tensors()));
            full.add(f);
            adapters.add(image(adapter(c, 200 + i).values()));
        }
        System.out.printf("bodies: full %.1f MB, adapter %.2f MB%n", Files.size(full.get(0)) / 1e6, adapters.get(0).length / 1e6);
        // a 0.5B server keeps 2 versions here, not 4: four full 0.5B versions and a staged one exceed this machine;
        // the memory of 4 resident versions is measured apart, below
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                large ? "-Xmx8g" : "-Xmx2g", "-cp", System.getProperty("java.class.path"),
                AdapterServingBench.class.getName(), "--child", "server", "--model", model, "--keep", large ? "2" : "4");
        Process server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            var lines = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream()));
            String first = lines.readLine();
            if (first == null || !first.startsWith("port ")) throw new IllegalStateException("server child: " + first);
            int port = Integer.parseInt(first.substring(5).trim());
            String load = BenchMachine.waitForLoad();
            List<double[]> f = new ArrayList<>(), ad = new ArrayList<>();
            long v = 0;
            for (int i = 0; i < rounds; i++) {
                f.add(WeightSwapBench.put(port, ++v, HttpRequest.BodyPublishers.ofFile(full.get(i))));
                ad.add(WeightSwapBench.put(port, ++v, HttpRequest.BodyPublishers.ofByteArray(adapters.get(i))));
            }
            WeightSwapBench.report("full weights", f, load);
            WeightSwapBench.report("adapter r 16 all-linear, each after a full push", ad, load);
            // adapter pushes in a row, as a LoRA run sends them (no full body's garbage in between)
            List<double[]> row = new ArrayList<>();
            for (int i = 0; i < 2 * rounds; i++) {
                row.add(WeightSwapBench.put(port, ++v, HttpRequest.BodyPublishers.ofByteArray(adapters.get(i % rounds))));
            }
            WeightSwapBench.report("adapter r 16 all-linear, in a row", row, load);
        } finally {
            server.getOutputStream().close(); // the child stops when its stdin closes
            if (!server.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) server.destroyForcibly();
        }
    }

    /** The push phase's server, in this JVM: prints its port, serves until stdin closes. */
    private static void server(Path dir, int keep) throws Exception {
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "bench", ServingBench.TOKEN, 1L << 31),
                new EngineOptions(16, 64, keep, loraOptions(LORA.r())))) {
            System.out.println("port " + s.port());
            System.out.flush();
            while (System.in.read() != -1) {
                // wait for the parent to close our stdin
            }
        }
    }

    /** One mode in this JVM: RSS after the engine started and after 3 more versions (4 resident). */
    private static void memory(ModelConfig c, Path dir, String mode) throws Exception {
        ModelDir.Loaded m = ModelDir.load(dir);
        boolean lora = mode.equals("adapter");
        EngineOptions o = new EngineOptions(16, 64, 4, lora ? loraOptions(LORA.r()) : PolicyOptions.DEFAULT,
                256, 64L << 20);
        try (Tokenizer tok = Tokenizer.load(dir);
             GenerationEngine e = new GenerationEngine(c, m.weights(), 0, tok, new ServerMetrics(), o)) {
            System.gc();
            long start = kb("VmRSS");
            System.out.printf(Locale.ROOT, "%s: 1 version resident, RSS %.0f MB%n", mode, start / 1024.0);
            long inputs = 0;
            for (int v = 1; v <= 3; v++) {
                if (v > 1) {
                    System.gc();
                    System.out.printf(Locale.ROOT, "%s: %d versions resident, RSS %.0f MB%n", mode, v, kb("VmRSS") / 1024.0);
                }
                if (lora) {
                    Map<String, Tensor> t = adapter(c, 300 + v);
                    e.installAdapter(new LoraConfig(16, 16, 0.0, LoraConfig.ALL_LINEAR, false, false), t, v, true).get();
                    try (AdapterInputs x = AdapterInputs.of(c, LORA.r(), LORA, t)) {
                        inputs = x.bytes();
                    }
                } else {
                    e.publish(ModelInit.random(c, 300 + v), v).get();
                }
            }
            System.gc();
            long after = kb("VmRSS");
            System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.0f | %.1f |%n", mode, e.residentVersions(), start / 1024.0,
                    after / 1024.0, (after - start) / 1024.0 / 3);
            if (lora) System.out.printf(Locale.ROOT, "adapter inputs of one version: %.2f MB (zeros shared per shape)%n", inputs / 1e6);
        }
    }

    /** Decode tokens/s: base session + adapter inputs against a plain session of the merged weights. */
    private static void serving(ModelConfig c, int steps) throws Exception {
        Weights base = ModelInit.random(c, 1);
        Map<String, Tensor> ad = adapter(c, 5);
        Weights merged = LoraMerge.merge(c, base, new AdapterFiles.Adapter(LORA, "", ad));
        System.out.println("| batch | adapter inputs tokens/s | merged tokens/s | ratio | load |");
        System.out.println("|---|---|---|---|---|");
        try (OrtPolicy lora = OrtPolicy.create(c, base, loraOptions(LORA.r()));
             OrtPolicy adapted = lora.withAdapter(AdapterInputs.of(c, LORA.r(), LORA, ad));
             OrtPolicy plain = OrtPolicy.create(c, merged, PolicyOptions.DEFAULT)) {
            for (int b : new int[] {1, 16}) {
                String load = BenchMachine.waitForLoad();
                double x = 0, y = 0;
                for (int rep = 0; rep < 3; rep++) { // interleaved, best of 3 each: the machine is shared
                    x = Math.max(x, decodeRate(adapted, c, b, steps));
                    y = Math.max(y, decodeRate(plain, c, b, steps));
                }
                System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.2f | %s |%n", b, x, y, x / y, load);
            }
        }
    }

    private static double decodeRate(OrtPolicy p, ModelConfig c, int rows, int steps) {
        KvCache cache = p.newCache(rows, 32 + steps + 1);
        SplittableRandom r = new SplittableRandom(rows);
        int[][] prompts = new int[rows][32];
        for (int[] row : prompts) for (int i = 0; i < row.length; i++) row[i] = r.nextInt(c.vocabSize());
        p.prefillNew(cache, prompts);
        int[] tokens = new int[rows];
        for (int i = 0; i < 4; i++) p.decode(cache, tokens); // warm-up
        long t0 = System.nanoTime();
        for (int i = 0; i < steps - 4; i++) p.decode(cache, tokens);
        return rows * (steps - 4) / ((System.nanoTime() - t0) / 1e9);
    }

    private static long kb(String field) throws java.io.IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(field + ":")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
