package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;
import dev.vaco.server.engine.EngineBenchSupport;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What one ORT session of a model costs in resident memory, by session option: each variant in a fresh JVM (RSS does
 * not shrink back reliably within one), RSS after the random weights exist, after the session is built (weights still
 * held, as before OrtPolicy let them go), after the weights are dropped and collected, and after decoding at batch 1
 * and 16 (the arena grows); a rough decode speed on the side (ServingBench is the speed reference).
 *
 * <pre>
 * java -cp bench/target/classes:$(cat bench/target/classpath.txt) dev.vaco.bench.SessionMemoryBench --model 0.5b --variants base,inplace,noprepack,basic,noarena,nopattern,devinit
 * </pre>
 */
public final class SessionMemoryBench {
    private SessionMemoryBench() {}

    public static void main(String[] args) throws Exception {
        List<String> a = List.of(args);
        String model = ServingBench.opt(a, "--model", "0.5b");
        if (a.contains("--child")) {
            child(model, ServingBench.opt(a, "--child", "base"));
            return;
        }
        String[] variants = ServingBench.opt(a, "--variants", "base,noprepack").split(",");
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cpus, load " + BenchMachine.loadAverage1() + ", MALLOC_MMAP_THRESHOLD_=" + System.getenv("MALLOC_MMAP_THRESHOLD_"));
        System.out.println("| variant | weights MB | + session, weights held | + session, weights dropped | + after B=1 / B=16 decode | create s | tok/s B=1 / B=16 |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String v : variants) {
            String java = ProcessHandle.current().info().command().orElse("java");
            Process p = new ProcessBuilder(java, "-Xmx2g", "-XX:MaxDirectMemorySize=6g", "-cp", System.getProperty("java.class.path"),
                    SessionMemoryBench.class.getName(), "--model", model, "--child", v)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>();
            for (String line; (line = r.readLine()) != null; ) lines.add(line);
            if (p.waitFor() != 0 || lines.isEmpty()) throw new IllegalStateException("variant " + v + " failed: " + lines);
            System.out.println(lines.get(lines.size() - 1));
        }
    }

    private static void child(String model, String variant) throws Exception {
        ModelConfig c = model.equals("0.5b") ? FleetBench.qwen2Half() : ModelInit.benchConfig25m();
        Weights w = ModelInit.random(c, 7);
        System.gc();
        long r0 = rssMb();
        long t0 = System.nanoTime();
        // "inplace": PolicyOptions.prepack off (shared initializers read in place, no prepacking); the rest are ORT settings
        PolicyOptions o = PolicyOptions.DEFAULT.withPrepack(!variant.startsWith("inplace"));
        OrtPolicy p = EngineBenchSupport.createTuned(c, w, o, variant.startsWith("inplace") ? "base" + variant.substring(7) : variant);
        double create = (System.nanoTime() - t0) / 1e9;
        long held = rssMb() - r0;
        w = null; // what a server does with a parsed upload once its session exists
        System.gc();
        Thread.sleep(200); // the direct buffers' cleaner runs after the collection
        long dropped = rssMb() - r0;
        int steps = model.equals("0.5b") ? 16 : 64;
        KvCache cache = p.newCache(16, 256);
        int[] prompt = EngineBenchSupport.tokens(c, 32, 3);
        p.prefill(cache, 0, prompt);
        double b1 = decode(p, cache, 1, steps);
        long afterB1 = rssMb() - r0;
        for (int row = 1; row < 16; row++) p.prefill(cache, row, prompt);
        double b16 = decode(p, cache, 16, steps);
        long afterB16 = rssMb() - r0;
        p.close();
        System.out.printf("| %s | %d | +%d | +%d | +%d / +%d | %.1f | %.1f / %.1f |%n", variant, r0, held, dropped, afterB1, afterB16,
                create, b1, b16);
    }

    /** Tokens per second of {@code steps} decode steps over {@code rows} rows, after 3 untimed ones. */
    private static double decode(OrtPolicy p, KvCache cache, int rows, int steps) {
        int[] toks = new int[rows];
        Arrays.fill(toks, 7);
        for (int i = 0; i < 3; i++) p.decode(cache, toks);
        long t = System.nanoTime();
        for (int i = 0; i < steps; i++) p.decode(cache, toks);
        return (double) rows * steps / ((System.nanoTime() - t) / 1e9);
    }

    private static long rssMb() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
