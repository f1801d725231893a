package dev.vaco.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.learner.optim.AdamW;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.learner.policy.TorchTestModels;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Learner step time and peak memory, full fine-tuning against LoRA (r = 16, alpha 32, all seven projections), on the
 * 25M benchmark model or the 0.5B Qwen2-shaped one ({@code --model 0.5b}; there run with {@code --batch 4}: the
 * logits of 16 x 128 tokens over 151,936 entries alone are 1.2 GB a copy): forward, backward and AdamW on one fixed
 * batch, as {@link TrainBench}. Each mode runs in its
 * own JVM, so that its peak resident memory ({@code VmHWM}) is its own; the figure reported besides it is the peak
 * above the resident memory just before the policy was built (engine loaded, weights in Java memory).
 *
 * <pre>
 * mvn -o -q -pl bench -am package -DskipTests
 * java -Dai.djl.offline=true -cp bench/target/classes:$(cat bench/target/classpath.txt) dev.vaco.bench.AdapterBench \
 *   [--model 25m|0.5b] [--batch 16] [--seq 128] [--warmup 2] [--steps 5] [--threads 2]
 * </pre>
 */
public final class AdapterBench {
    private AdapterBench() {}

    public static void main(String[] args) throws Exception {
        int batch = 16, seq = 128, warmup = 2, steps = 5, threads = 2;
        String child = null, model = "25m";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--seq" -> seq = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--child" -> child = args[++i];
                case "--model" -> model = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (child != null) {
            measure(child, model, batch, seq, warmup, steps, threads);
            return;
        }
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cores; load " + BenchMachine.waitForLoad());
        List<String> results = new ArrayList<>();
        for (String mode : new String[] {"full", "lora"}) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_interop_threads=1", "-cp",
                    System.getProperty("java.class.path"), AdapterBench.class.getName(), "--child", mode));
            cmd.addAll(Arrays.asList(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) throw new IllegalStateException(mode + " failed:\n" + out);
            System.out.print(out);
            out.lines().filter(l -> l.startsWith("| ")).forEach(results::add);
        }
        System.out.println();
        System.out.println("| mode | trainable params | ms/step (median) | peak RSS MB | peak above start MB |");
        System.out.println("|---|---|---|---|---|");
        results.forEach(System.out::println);
    }

    private static void measure(String mode, String model, int batch, int seq, int warmup, int steps, int threads)
            throws IOException {
        Engines.pytorch(threads);
        ModelConfig config = config(model);
        Weights weights = ModelInit.random(config, 7);
        LoraConfig lora = mode.equals("lora") ? new LoraConfig(16, 32, 0.0, LoraConfig.ALL_LINEAR, false, false)
                : LoraConfig.defaults();
        int[][] s = TorchTestModels.randomTokens(config.vocabSize(), batch, seq + 1, 1000L + seq);
        int[][] tokens = new int[batch][], targets = new int[batch][];
        for (int r = 0; r < batch; r++) {
            tokens[r] = Arrays.copyOf(s[r], seq);
            targets[r] = Arrays.copyOfRange(s[r], 1, seq + 1);
        }
        long start = kb("VmRSS");
        double[] ms = new double[steps];
        long trainable;
        try (TorchPolicy policy = TorchPolicy.create(config, weights, lora, 1);
             NDManager inputs = Engines.pytorch().newBaseManager();
             AdamW adam = new AdamW(inputs, 0.9, 0.999, 1e-8, 0.01)) {
            trainable = policy.trainable().values().stream().mapToLong(NDArray::size).sum();
            NDArray tok = inputs.create(tokens), tgt = inputs.create(targets);
            NDScope.unregister(tok);
            NDScope.unregister(tgt);
            for (int i = 0; i < warmup + steps; i++) {
                long t0 = System.nanoTime();
                try (GradientCollector gc = Engines.pytorch().newGradientCollector(); NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    gc.backward(policy.tokenLogProbs(tok, tgt).mean().neg());
                }
                adam.step(policy.trainable(), 1e-4);
                policy.zeroGradients();
                if (i >= warmup) ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
            }
        }
        Arrays.sort(ms);
        long peak = kb("VmHWM");
        System.out.printf(Locale.ROOT, "%s: B=%d T=%d, %d threads, steps %s ms%n", mode, batch, seq, threads,
                Arrays.toString(Arrays.stream(ms).mapToLong(Math::round).toArray()));
        System.out.printf(Locale.ROOT, "| %s | %,d | %.0f | %.0f | %.0f |%n", mode.equals("lora")
                        ? "LoRA r 16, all-linear" : "full", trainable, ms[steps / 2], peak / 1024.0,
                (peak - start) / 1024.0);
    }

    /** The 25M benchmark model or the 0.5B Qwen2-shaped one (Qwen2.5-0.5B's shapes, tied embeddings). */
    static ModelConfig config(String model) {
        return switch (model) {
            case "25m" -> ModelInit.benchConfig25m();
            case "0.5b" -> FleetBench.qwen2Half();
            default -> throw new IllegalArgumentException("--model is 25m or 0.5b, not " + model);
        };
    }

    /** A field of /proc/self/status in kB. */
    private static long kb(String field) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(field + ":")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
