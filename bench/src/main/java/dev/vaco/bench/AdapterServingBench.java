package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
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
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.engine.AdapterInputs;
import dev.vaco.server.engine.GraphOptions;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.server.http.LoraServingTest;
import dev.vaco.server.metrics.ServerMetrics;

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
            memory(c, dir, ServingBench.opt(a, "--child", "full"));
            return;
        }
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores; load " + BenchMachine.waitForLoad());
        push(c, dir, rounds);
        for (String mode : new String[] {"full", "adapter"}) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + Runtime.getRuntime().maxMemory() / (1 << 20) + "m", "-cp", System.getProperty("java.class.path"),
                    AdapterServingBench.class.getName(), "--child", mode, "--model", model);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) throw new IllegalStateException(mode + " failed:\n" + out);
            System.out.print(out);
        }
        serving(c, steps);
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
        return LoraServingTest.randomAdapter(c, LORA, seed);
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

    /** Full pushes and adapter pushes alternating on one LoRA server; bodies serialised before any timing. */
    private static void push(ModelConfig c, Path dir, int rounds) throws Exception {
        List<byte[]> full = new ArrayList<>(), adapters = new ArrayList<>();
        // above 100M parameters one full image is sent each time (a 0.5B one is 1.98 GB: a few would not fit the heap)
        boolean large = c.parameterCount() > 100_000_000L;
        for (int i = 0; i < rounds; i++) {
            full.add(large && i > 0 ? full.get(0) : image(ModelInit.random(c, 100 + i).tensors()));
            adapters.add(image(adapter(c, 200 + i).values()));
        }
        System.out.printf("bodies: full %.1f MB, adapter %.2f MB%n", full.get(0).length / 1e6, adapters.get(0).length / 1e6);
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "bench", ServingBench.TOKEN, 1L << 31),
                new GenerationEngine.Options(16, 64, 4, loraOptions(LORA.r())))) {
            String load = BenchMachine.waitForLoad();
            List<double[]> f = new ArrayList<>(), ad = new ArrayList<>();
            long v = 0;
            for (int i = 0; i < rounds; i++) {
                f.add(WeightSwapBench.put(s, ++v, full.get(i), false));
                ad.add(WeightSwapBench.put(s, ++v, adapters.get(i), false));
            }
            WeightSwapBench.report("full weights", f, load);
            WeightSwapBench.report("adapter r 16 all-linear, each after a full push", ad, load);
            // adapter pushes in a row, as a LoRA run sends them (no 100 MB body's garbage in between)
            List<double[]> row = new ArrayList<>();
            for (int i = 0; i < 2 * rounds; i++) row.add(WeightSwapBench.put(s, ++v, adapters.get(i % rounds), false));
            WeightSwapBench.report("adapter r 16 all-linear, in a row", row, load);
        }
    }

    /** One mode in this JVM: RSS after the engine started and after 3 more versions (4 resident). */
    private static void memory(ModelConfig c, Path dir, String mode) throws Exception {
        ModelDir.Loaded m = ModelDir.load(dir);
        boolean lora = mode.equals("adapter");
        GenerationEngine.Options o = new GenerationEngine.Options(16, 64, 4, lora ? loraOptions(LORA.r()) : PolicyOptions.DEFAULT,
                256, 64L << 20);
        try (Tokenizer tok = Tokenizer.load(dir);
             GenerationEngine e = new GenerationEngine(c, m.weights(), 0, tok, new ServerMetrics(), o)) {
            System.gc();
            long start = kb("VmRSS");
            long inputs = 0;
            for (int v = 1; v <= 3; v++) {
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
