package dev.vaco.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;
import dev.vaco.learner.optim.AdamW;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.PythonScripts;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.learner.policy.TorchTestModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Training-step throughput of {@link TorchPolicy} + {@link AdamW} against the fp32 matmul ceiling of this machine
 * and against the plain PyTorch baseline ({@code train_step_baseline.py}) on the same weights and batch.
 *
 * <pre>
 * cd /work/main
 * mvn -o -q -pl bench -am package -DskipTests
 * java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1 \
 *   -cp bench/target/classes:$(cat bench/target/classpath.txt) \
 *   dev.vaco.bench.TrainBench --configs tiny,25m --seq 64,128 --batch 32 --warmup 2 --steps 5 --rounds 2
 * </pre>
 *
 * <p>The machine is shared (other builds run alongside), so each (config, T) is measured in {@code --rounds} rounds,
 * each round running DJL, the Python baseline and the matmul ceiling back to back (same {@code --threads}, default 2); a run's figure is its median step,
 * and the best round of each side is reported. {@code --no-python} skips the baseline.
 *
 * <p>Estimate: training FLOPs = 3 x forward matmul FLOPs ({@code 3 * ModelConfig.matmulFlopsPerToken()}, i.e. 6 x
 * matmul parameters per token; attention scores and element-wise work excluded).
 */
public final class TrainBench {

    /** Command-line options; {@code configs} are "tiny" and/or "25m". */
    record Options(List<String> configs, List<Integer> seqLens, int batch, int warmup, int steps, int rounds,
                   int threads, boolean python) {
        Options {
            configs = List.copyOf(configs);
            seqLens = List.copyOf(seqLens);
            for (String c : configs) {
                if (!c.equals("tiny") && !c.equals("25m")) throw new IllegalArgumentException("unknown config " + c);
            }
            if (seqLens.isEmpty() || seqLens.stream().anyMatch(t -> t < 2)) {
                throw new IllegalArgumentException("--seq values must be >= 2: " + seqLens);
            }
            if (batch < 1 || warmup < 0 || steps < 1 || rounds < 1 || threads < 1) {
                throw new IllegalArgumentException("need batch, steps, rounds, threads >= 1 and warmup >= 0");
            }
        }

        static Options parse(String[] args) {
            List<String> configs = List.of("tiny", "25m");
            List<Integer> seq = List.of(64, 128);
            int batch = 32, warmup = 2, steps = 5, rounds = 2, threads = 2;
            boolean python = true;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--configs" -> configs = Arrays.asList(args[++i].split(","));
                    case "--seq" -> seq = Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                    case "--batch" -> batch = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                    case "--steps" -> steps = Integer.parseInt(args[++i]);
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--threads" -> threads = Integer.parseInt(args[++i]);
                    case "--no-python" -> python = false;
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
            return new Options(configs, seq, batch, warmup, steps, rounds, threads, python);
        }
    }

    /** One DJL run: median step and its phases (ms), first and last loss. */
    record DjlRun(double stepMs, double forwardMs, double backwardMs, double adamMs, double lossFirst, double lossLast) {}

    record Row(String config, long params, int batch, int seq, DjlRun djl, double ceiling, double pythonTokensPerS) {
        double tokensPerS() {
            return batch * (double) seq / (djl.stepMs() / 1000);
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        Engines.pytorch(o.threads());
        System.out.println("threads " + o.threads() + " (DJL and PyTorch); load average at start: " + loadAverage());
        List<Row> rows = new ArrayList<>();
        for (String name : o.configs()) {
            ModelConfig config = name.equals("tiny") ? ModelInit.tinyConfig() : ModelInit.benchConfig25m();
            Weights weights = ModelInit.random(config, 7);
            for (int t : o.seqLens()) {
                int[][] seq = TorchTestModels.randomTokens(config.vocabSize(), o.batch(), t + 1, 1000L + t);
                DjlRun best = null;
                double bestPy = Double.NaN, ceiling = 0;
                for (int round = 0; round < o.rounds(); round++) {
                    DjlRun run = djlSteps(config, weights, seq, o.warmup(), o.steps());
                    double py = o.python() ? pythonBaseline(config, weights, seq, o.warmup(), o.steps(), o.threads()) : Double.NaN;
                    double c = matmulCeiling(2048, 5);
                    System.out.printf(Locale.ROOT, "%s B=%d T=%d round %d: DJL %.0f ms/step (fwd %.0f, bwd %.0f, adamw %.0f),"
                                    + " python %.0f tokens/s, ceiling %.1f GFLOP/s, load %s%n", name, o.batch(), t, round,
                            run.stepMs(), run.forwardMs(), run.backwardMs(), run.adamMs(), py, c, loadAverage());
                    if (best == null || run.stepMs() < best.stepMs()) best = run;
                    if (Double.isNaN(bestPy) || py > bestPy) bestPy = py;
                    ceiling = Math.max(ceiling, c);
                }
                rows.add(new Row(name, config.parameterCount(), o.batch(), t, best, ceiling, bestPy));
            }
        }
        System.out.println("load average at end: " + loadAverage());
        System.out.println();
        System.out.println("| config | params | B x T | DJL ms/step (fwd / bwd / AdamW) | DJL tokens/s | GFLOP/s "
                + "| ceiling GFLOP/s | % of ceiling | PyTorch 1.13 tokens/s | DJL / PyTorch | loss first -> last |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            ModelConfig c = r.config().equals("tiny") ? ModelInit.tinyConfig() : ModelInit.benchConfig25m();
            double gflops = 3.0 * c.matmulFlopsPerToken() * r.tokensPerS() / 1e9;
            System.out.printf(Locale.ROOT, "| %s | %.2fM | %d x %d | %.0f (%.0f / %.0f / %.0f) | %.0f | %.1f | %.1f | %.0f%% | %.0f | %.2fx "
                            + "| %.3f -> %.3f |%n", r.config(), r.params() / 1e6, r.batch(), r.seq(), r.djl().stepMs(),
                    r.djl().forwardMs(), r.djl().backwardMs(), r.djl().adamMs(), r.tokensPerS(), gflops, r.ceiling(),
                    100 * gflops / r.ceiling(), r.pythonTokensPerS(), r.tokensPerS() / r.pythonTokensPerS(),
                    r.djl().lossFirst(), r.djl().lossLast());
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "n/a";
        }
    }

    /** Best-of-n GFLOP/s of an n x n fp32 matmul through DJL (the same libtorch GEMM the trainer uses). */
    static double matmulCeiling(int n, int repeats) {
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats + 1; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getShape();
                }
                long dt = System.nanoTime() - t0;
                if (i > 0) best = Math.min(best, dt);   // the first call warms up the GEMM
            }
            return 2.0 * n * n * n / best;               // flops per ns == GFLOP/s
        }
    }

    /** Training steps on one fixed batch: forward, cross-entropy over the batch, backward, AdamW. */
    static DjlRun djlSteps(ModelConfig config, Weights weights, int[][] seq, int warmup, int steps) {
        int b = seq.length, t = seq[0].length - 1;
        int[][] tokens = new int[b][], targets = new int[b][];
        for (int r = 0; r < b; r++) {
            tokens[r] = Arrays.copyOf(seq[r], t);
            targets[r] = Arrays.copyOfRange(seq[r], 1, t + 1);
        }
        try (TorchPolicy policy = TorchPolicy.create(config, weights);
             NDManager inputs = Engines.pytorch().newBaseManager();
             AdamW adam = new AdamW(inputs, 0.9, 0.999, 1e-8, 0.01)) {
            // kept out of any open NDScope, as the learner's NativeArrays.keep does (package-private there)
            NDArray tok = inputs.create(tokens);
            NDArray tgt = inputs.create(targets);
            NDScope.unregister(tok);
            NDScope.unregister(tgt);
            double first = Double.NaN, last = Double.NaN;
            double[][] phases = new double[steps][3];
            for (int i = 0; i < warmup + steps; i++) {
                long t0 = System.nanoTime(), t1, t2;
                try (GradientCollector collector = Engines.pytorch().newGradientCollector();
                     NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray loss = policy.tokenLogProbs(tok, tgt).mean().neg(); // cross-entropy over the batch
                    last = loss.getFloat();
                    t1 = System.nanoTime();
                    collector.backward(loss);
                    t2 = System.nanoTime();
                    if (i == 0) first = last;
                }
                adam.step(policy.parameters(), 1e-4); // outside the collector and the scope
                policy.zeroGradients();
                long t3 = System.nanoTime();
                if (i >= warmup) phases[i - warmup] = new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6};
            }
            Arrays.sort(phases, (x, y) -> Double.compare(x[0] + x[1] + x[2], y[0] + y[1] + y[2]));
            double[] median = phases[steps / 2];
            return new DjlRun(median[0] + median[1] + median[2], median[0], median[1], median[2], first, last);
        }
    }

    private static final Pattern BASELINE = Pattern.compile("BASELINE tokens_per_s=([0-9.]+)");

    static double pythonBaseline(ModelConfig config, Weights weights, int[][] seq, int warmup, int steps, int threads)
            throws IOException, InterruptedException {
        String reason = PythonScripts.torchUnavailableReason();
        if (reason != null) {
            System.out.println("python baseline skipped: " + reason);
            return Double.NaN;
        }
        Path dir = Files.createTempDirectory("vaco-bench");
        try {
            ModelDir.save(dir, config, weights);
            Path batch = dir.resolve("batch.txt");
            Files.writeString(batch, Arrays.stream(seq)
                    .map(r -> Arrays.stream(r).mapToObj(Integer::toString).collect(Collectors.joining(" ")))
                    .collect(Collectors.joining("\n")) + "\n");
            String out = PythonScripts.run(List.of(PythonScripts.PYTHON,
                    BenchScripts.python("train_step_baseline.py").toString(), dir.toString(),
                    batch.toString(), Integer.toString(warmup), Integer.toString(steps), Integer.toString(threads)),
                    // Debian's torch 1.13 runs its GEMMs in OpenBLAS (BLAS_INFO=generic), whose pthread pool ignores
                    // torch.set_num_threads and takes every core: pin it to the same thread count.
                    java.util.Map.of("OPENBLAS_NUM_THREADS", Integer.toString(threads),
                            "OMP_NUM_THREADS", Integer.toString(threads)));
            System.out.println("  " + out.strip().lines().reduce((a, b) -> b).orElse(""));
            Matcher m = BASELINE.matcher(out);
            if (!m.find()) throw new IllegalStateException("no BASELINE line in:\n" + out);
            return Double.parseDouble(m.group(1));
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }
}
