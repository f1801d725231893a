package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.EngineBenchSupport;
import dev.vaco.server.engine.KvCache;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.engine.Quantization;
import dev.vaco.server.http.InferenceServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Quantized rollouts (README / BENCHMARKS.md "Quantized rollouts"): fp32 against int8 and int4 weights, same run.
 *
 * <pre>
 * mvn -o -q -pl bench -am package -DskipTests
 * CP=bench/target/classes:$(cat bench/target/classpath.txt)
 * java -cp $CP dev.vaco.bench.QuantizedServingBench [--models 25m,91m] [--levels 1,64] [--window 20] \
 *     [--parts layers,sweep,serving,precision]   (default: all but sweep)
 * </pre>
 *
 * For each model (the 25M math-vocabulary model of ServingBench, and its 91M Llama-3-vocabulary one, tied 128256 x 512
 * embedding, {@code ServingBench init-llama3}), in order:
 * <ol>
 *   <li>layers: one linear layer alone (an MLP projection [I, H] and lm_head [V, H]) at M = 1 and 64 rows, fp32 Gemm
 *       against MatMulNBits, as GFLOP/s (2 M N K / time) and weight bytes: what the end-to-end figures come from;</li>
 *   <li>sweep (only when named in {@code --parts}): block size 32/64/128 and accuracy level 0/4 (and int4 without the head), decode steps
 *       timed directly on the engine (64-token prompts, 40 steps) at batch 1 and 64: how the defaults were chosen;</li>
 *   <li>serving: tokens/s through the HTTP server (ServingBench's closed loop, prompt 64, max_tokens 192) at each
 *       concurrency, ratio to fp32 in the same run, and weight bytes a decode step reads;</li>
 *   <li>precision: 4 sequences of 128 tokens sampled (temperature 1) by the quantized policy with its KV cache, as the
 *       server samples; against the fp32 policy teacher-forced on them: mean KL(quantized || fp32) per token and max
 *       |behaviour log-prob - fp32 log-prob| of the sampled tokens (the learner's fp32 ORT policy agrees with DJL to
 *       ~1e-6).</li>
 * </ol>
 */
public final class QuantizedServingBench {
    private QuantizedServingBench() {}

    static final List<Quantization> SCHEMES = List.of(Quantization.NONE, Quantization.INT8, Quantization.INT4);

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        int[] levels = Arrays.stream(ServingBench.opt(a, "--levels", "1,64").split(",")).mapToInt(Integer::parseInt).toArray();
        double window = Double.parseDouble(ServingBench.opt(a, "--window", "20"));
        List<String> parts = List.of(ServingBench.opt(a, "--parts", "layers,serving,precision").split(","));
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores; java " + System.getProperty("java.version") + "; window " + window + " s");
        for (String m : ServingBench.opt(a, "--models", "25m,91m").split(",")) {
            Path dir = Path.of("/tmp/vaco-serving-bench", m.equals("91m") ? "91m-llama3" : m);
            if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) {
                if (m.equals("91m")) ServingBench.initLlama3(dir);
                else ModelInit.init(dir, ModelInit.benchConfig25m(), 1);
            }
            ModelDir.Loaded model = ModelDir.load(dir);
            ModelConfig c = model.config();
            System.out.printf("%n## %s: %.1fM params, matmul FLOPs/token %.1f M, fp32 ORT ceiling %.1f GFLOP/s (load %s)%n",
                    m, c.parameterCount() / 1e6, c.matmulFlopsPerToken() / 1e6, OrtBench.matmulCeiling(), BenchMachine.waitForLoad());
            if (parts.contains("layers")) layers(c);
            if (parts.contains("sweep")) sweep(c, model.weights());
            if (parts.contains("serving")) serving(m, dir, c, model.weights(), levels, window);
            if (parts.contains("precision")) precision(c, model.weights());
        }
    }

    /** One linear layer alone at M = 1 and 64: GFLOP/s and weight bytes, fp32 against each scheme. */
    static void layers(ModelConfig c) throws Exception {
        System.out.println("\n| layer [N, K] | M | scheme | µs/call | GFLOP/s | weight MB | x fp32 |");
        System.out.println("|---|---|---|---|---|---|---|");
        int[][] shapes = {{c.intermediateSize(), c.hiddenSize()}, {c.vocabSize(), c.hiddenSize()}};
        for (int[] nk : shapes) {
            for (int rows : new int[] {1, 64}) {
                double base = 0;
                List<Quantization> schemes = new ArrayList<>(SCHEMES);
                schemes.add(Quantization.INT8.withBlock(32, 4)); // the other block sizes, for the defaults' choice
                schemes.add(Quantization.INT4.withBlock(128, 4));
                for (Quantization s : schemes) {
                    double ns = EngineBenchSupport.linearNanos(rows, nk[0], nk[1], s);
                    if (!s.enabled()) base = ns;
                    double mb = s.enabled() ? nk[0] * (double) s.blocks(nk[1]) * (s.blobBytes() + 4 + s.bits() / 8.0) / 1e6
                            : 4.0 * nk[0] * nk[1] / 1e6;
                    System.out.printf("| [%d, %d] | %d | %s | %.0f | %.1f | %.2f | %.2f |%n", nk[0], nk[1], rows,
                            s.enabled() ? s.name() + " b" + s.blockSize() : s.name(),
                            ns / 1e3, 2.0 * rows * nk[0] * nk[1] / ns, mb, base / ns);
                }
            }
        }
    }

    /** Block size and accuracy level by measurement: decode tokens/s on the engine at batch 1 and 64. */
    static void sweep(ModelConfig c, Weights w) {
        System.out.println("\n| scheme | block | accuracy level | head | tokens/s B=1 | tokens/s B=64 |");
        System.out.println("|---|---|---|---|---|---|");
        List<Quantization> variants = new ArrayList<>(List.of(Quantization.NONE));
        for (Quantization s : List.of(Quantization.INT8, Quantization.INT4)) {
            for (int block : new int[] {32, 64, 128}) {
                for (int level : new int[] {0, 4}) variants.add(s.withBlock(block, level));
            }
            variants.add(s.withHead(false));
        }
        for (Quantization s : variants) {
            try (OrtPolicy p = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withQuantization(s))) {
                System.out.printf("| %s | %d | %d | %s | %.0f | %.0f |%n", s.name(), s.blockSize(), s.accuracyLevel(),
                        s.head() ? "quantized" : "fp32", decodeTokensPerSecond(p, 1), decodeTokensPerSecond(p, 64));
            }
        }
    }

    /** rows x 40 decode steps after 64-token prompts (and 8 untimed steps): tokens per second. */
    static double decodeTokensPerSecond(OrtPolicy p, int rows) {
        ModelConfig c = p.config();
        KvCache cache = p.newCache(rows, 128);
        int[][] prompts = new int[rows][];
        for (int r = 0; r < rows; r++) prompts[r] = EngineBenchSupport.tokens(c, 64, r);
        p.prefillNew(cache, prompts);
        int[] next = new int[rows];
        long t0 = 0;
        for (int step = 0; step < 48; step++) {
            if (step == 8) t0 = System.nanoTime();
            for (int r = 0; r < rows; r++) next[r] = (step * 31 + r * 7) % c.vocabSize();
            p.decode(cache, next);
        }
        return rows * 40 / ((System.nanoTime() - t0) / 1e9);
    }

    /** tokens/s through the HTTP server for each scheme, ratio to fp32 in this run, and the weight bytes per step. */
    static void serving(String name, Path dir, ModelConfig c, Weights w, int[] levels, double window) throws Exception {
        System.out.println("\n| model | scheme | concurrency | tokens/s | x fp32 | matmul GFLOP/s | weight MB read per step | "
                + "quantize + session s | load before / after |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        double[] fp32 = new double[levels.length];
        for (Quantization s : SCHEMES) {
            double mb, createS;
            try (OrtPolicy p = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withQuantization(s))) {
                mb = weightBytesPerStep(c, s, p.quantizedBytes()) / 1e6;
                createS = p.creationNanos() / 1e9;
            }
            try (Server server = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, name, ServingBench.TOKEN, 1L << 31),
                    new EngineOptions(64, 1024, 4, PolicyOptions.DEFAULT.withQuantization(s)))) {
                for (int i = 0; i < levels.length; i++) {
                    String load = BenchMachine.waitForLoad();
                    ServingLoop.Result r = ServingLoop.closedLoop(server, c, levels[i], 1, 64, 192, window, null);
                    if (!s.enabled()) fp32[i] = r.tokensPerSecond();
                    System.out.printf("| %s | %s | %d | %.0f | %.2f | %.1f | %.1f | %.2f | %s / %.2f |%n", name, s.name(), levels[i],
                            r.tokensPerSecond(), r.tokensPerSecond() / fp32[i], r.tokensPerSecond() * c.matmulFlopsPerToken() / 1e9,
                            mb, createS, load, BenchMachine.loadAverage1());
                }
            }
        }
    }

    /**
     * Bytes of matmul weights one decode step reads: the layers' projections and lm_head, fp32 (4 bytes each) or
     * {@code quantized} (values, scales, zero points; lm_head fp32 when the scheme keeps it).
     */
    static double weightBytesPerStep(ModelConfig c, Quantization s, long quantized) {
        double head = 4.0 * c.vocabSize() * c.hiddenSize();
        double layers = c.numHiddenLayers() * 4.0 * ((double) c.hiddenSize() * (c.qDim() + 2 * c.kvDim())
                + (double) c.qDim() * c.hiddenSize() + 3.0 * c.hiddenSize() * c.intermediateSize());
        if (!s.enabled()) return head + layers;
        return quantized + (s.head() ? 0 : head);
    }

    /** Mismatch of each quantized scheme against fp32 on text the quantized policy samples. */
    static void precision(ModelConfig c, Weights w) {
        System.out.println("\n| scheme | tokens | mean KL(quantized ‖ fp32) per token | max |log-prob diff| | mean |log-prob diff| |");
        System.out.println("|---|---|---|---|---|");
        try (OrtPolicy fp32 = OrtPolicy.create(c, w)) {
            for (Quantization s : SCHEMES.subList(1, SCHEMES.size())) {
                try (OrtPolicy q = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withQuantization(s))) {
                    double[] r = mismatch(q, fp32, 4, 64, 128);
                    System.out.printf("| %s | %.0f | %.2e | %.2e | %.2e |%n", s.name(), r[3], r[0] / r[3], r[1], r[2] / r[3]);
                }
            }
        }
    }

    /** {sum KL, max |diff|, sum |diff|, tokens} over {@code seqs} sampled sequences. */
    static double[] mismatch(OrtPolicy q, OrtPolicy fp32, int seqs, int prompt, int completion) {
        ModelConfig c = q.config();
        double[] out = new double[4];
        SplittableRandom rng = new SplittableRandom(17);
        for (int i = 0; i < seqs; i++) {
            int[] all = Arrays.copyOf(EngineBenchSupport.tokens(c, prompt, 1000 + i), prompt + completion);
            KvCache cache = q.newCache(1, prompt + completion);
            float[] logits = q.prefill(cache, 0, Arrays.copyOf(all, prompt));
            float[][] behaviour = new float[completion][];
            for (int t = 0; t < completion; t++) {
                behaviour[t] = logits;
                all[prompt + t] = sample(logits, logSumExp(logits), rng);
                if (t + 1 < completion) logits = q.decode(cache, new int[] {all[prompt + t]})[0];
            }
            float[][] learner = fp32.logits(Arrays.copyOf(all, prompt + completion - 1));
            for (int t = 0; t < completion; t++) {
                // log q_v = zq_v - lse(zq), log p_v = zp_v - lse(zp); KL(q || p) = sum_v q_v (log q_v - log p_v)
                float[] zp = learner[prompt - 1 + t], zq = behaviour[t];
                double lseP = logSumExp(zp), lseQ = logSumExp(zq), kl = 0;
                for (int v = 0; v < zq.length; v++) kl += Math.exp(zq[v] - lseQ) * ((zq[v] - lseQ) - (zp[v] - lseP));
                int x = all[prompt + t];
                double d = Math.abs((zq[x] - lseQ) - (zp[x] - lseP));
                out[0] += kl;
                out[1] = Math.max(out[1], d);
                out[2] += d;
                out[3]++;
            }
        }
        return out;
    }

    /** log sum_v exp(z_v), in double. */
    static double logSumExp(float[] z) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : z) max = Math.max(max, v);
        for (float v : z) sum += Math.exp(v - max);
        return max + Math.log(sum);
    }

    /** A token drawn from softmax(z) at temperature 1 ({@code lse} = logSumExp(z)). */
    static int sample(float[] z, double lse, SplittableRandom rng) {
        double u = rng.nextDouble(), acc = 0;
        for (int i = 0; i < z.length; i++) {
            acc += Math.exp(z[i] - lse);
            if (u < acc) return i;
        }
        return z.length - 1;
    }
}
