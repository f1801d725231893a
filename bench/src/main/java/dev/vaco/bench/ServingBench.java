package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

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

    public static void main(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("usage: serving|swap|large-swap|init-llama3 ...");
        List<String> a = Arrays.asList(args);
        switch (args[0]) {
            case "serving" -> serving(a);
            case "swap" -> WeightSwapBench.swap(a);
            case "large-swap" -> WeightSwapBench.largeSwap(Path.of(args.length > 1 ? args[1] : "/tmp/vaco-large-model"));
            case "init-llama3" -> initLlama3(Path.of(args[1]));
            case "check-torch" -> TorchServingBaseline.checkTorch(Path.of(args[1]));
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
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores; java "
                + System.getProperty("java.version") + "; prompt " + prompt + " random ids, max_tokens " + completion
                + ", temperature " + ServingLoop.TEMPERATURE + ", ignore_eos, n " + n + " samples per request, window " + window + " s");
        List<String> table = new ArrayList<>();
        List<String> torchOut = new ArrayList<>();
        for (var e : dirs) {
            String name = e.getKey();
            Path dir = e.getValue();
            ModelConfig c = ModelDir.config(dir);
            String load = BenchMachine.waitForLoad();
            // OrtBench's ceiling (best of 6 timed ORT MatMuls of n x n fp32, n = 1024, 2048, B a prepacked
            // initializer): exactly as the engine benchmark measures it, so the two documents compare like with like
            double ceiling = OrtBench.matmulCeiling();
            // The baseline's own BLAS, measured the same way: the ceiling that the developers' guide's "~100 GFLOP/s
            // per core" and the PyTorch loop's "~7%" refer to (MLAS reaches about twice it on this AVX-512 machine).
            double torchCeiling = torch ? TorchServingBaseline.torchCeiling() : Double.NaN;
            System.out.printf("[%s] %.1fM params, matmul FLOPs/token %.1f M, ceiling %.1f GFLOP/s (ORT), %.1f (PyTorch) (load %s)%n",
                    name, c.parameterCount() / 1e6, c.matmulFlopsPerToken() / 1e6, ceiling, torchCeiling, load);
            int maxRows = Math.max(64, Arrays.stream(levels).max().orElse(1));
            try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, name, TOKEN, 1L << 31),
                    new EngineOptions(maxRows, 1024, 4, PolicyOptions.DEFAULT.withPrepack(!a.contains("--no-weight-prepack"))))) {
                for (int conc : levels) {
                    load = BenchMachine.waitForLoad();
                    ServingLoop.Result r = ServingLoop.closedLoop(s, c, conc / n, n, prompt, completion, window, null);
                    double gf = r.tokensPerSecond() * c.matmulFlopsPerToken() / 1e9;
                    // All matmul work: every request brings `prompt` prompt tokens per n x `completion` generated ones
                    // (the server's prompt counter moves in lumps as waves of requests are admitted, so the workload's
                    // ratio is used); prompt tokens run every matmul but lm_head (logits only after the last one).
                    double promptFlops = c.matmulFlopsPerToken() - 2.0 * c.vocabSize() * c.hiddenSize();
                    double all = gf + r.tokensPerSecond() * prompt / ((double) completion * n) * promptFlops / 1e9;
                    String row = String.format("| %s | %d | %.0f | %.0f | %.3f | %.3f | %.1f | %.1f | %.0f%% | %.0f%% | %.1f | %.0f%% | %.0f%% | %.1f | %s |",
                            name, conc, r.tokensPerSecond(), r.clientTokensPerSecond(), r.ttftP50(), r.ttftP99(), gf, ceiling,
                            100 * gf / ceiling, 100 * all / ceiling, torchCeiling, 100 * gf / torchCeiling,
                            100 * r.decodeShare(), r.tokensPerStep(), load + " / " + BenchMachine.loadAverage1());
                    System.out.println(row);
                    table.add(row);
                }
            }
            if (torch) {
                String l = BenchMachine.waitForLoad();
                List<String> out = TorchServingBaseline.runTorch(dir, prompt, completion, levels);
                for (String line : out) torchOut.add(name + " (load " + l + "): " + line);
            }
        }
        printReport(table, torchOut);
    }

    /** The rows of {@link #serving} as one table, then the PyTorch baseline's lines. */
    static void printReport(List<String> table, List<String> torchOut) {
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
}
