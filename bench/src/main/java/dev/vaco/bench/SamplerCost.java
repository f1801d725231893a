package dev.vaco.bench;

import dev.vaco.server.sampling.NaiveSampling;
import dev.vaco.server.sampling.Sampler;
import dev.vaco.server.sampling.SamplingParams;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Cost of {@link Sampler#sample} per token (one row of logits) on the decode thread, for the benchmark vocabularies
 * (128, the math tokenizer) and Llama 3's 128,256: the part of a decode step that is not ORT. Baselines from
 * {@link NaiveSampling}: at T = 1 Math.exp per id in double, with top_p every id sorted. Logits are
 * normal(0, 2) (a random-init model's are close to uniform, so the inverse-CDF walk goes ~half the vocabulary).
 *
 * <pre>
 * java -cp $CP dev.vaco.bench.SamplerCost
 * </pre>
 */
public final class SamplerCost {
    public static void main(String[] args) {
        System.out.println("load: " + BenchMachine.loadAverage1());
        System.out.println("| V | temperature | vaco µs/token best | median | naive baseline µs/token best | median |");
        System.out.println("|---|---|---|---|---|---|");
        for (int v : new int[] {128, 32_000, 128_256}) {
            for (double[] tp : new double[][] {{1.0, 1.0}, {0.0, 1.0}, {1.0, 0.95}}) {
                double t = tp[0];
                SamplingParams p = new SamplingParams(1, t, tp[1], 0, 16, List.of(), List.of(), 1L, 0, true);
                float[] logits = new float[v];
                SplittableRandom r = new SplittableRandom(v);
                Sampler s = new Sampler();
                SplittableRandom rng = new SplittableRandom(1);
                boolean truncated = tp[1] < 1;
                int rows = Math.max(truncated ? 20 : 200, (truncated ? 2_000_000 : 20_000_000) / v);
                long[] times = new long[7], naive = new long[7];
                for (int rep = -3; rep < times.length; rep++) { // 3 warm-up repetitions (JIT)
                    for (int i = 0; i < v; i++) logits[i] = (float) (r.nextGaussian() * 2);
                    long t0 = System.nanoTime();
                    for (int i = 0; i < rows; i++) s.sample(logits, p, rng);
                    if (rep >= 0) times[rep] = (System.nanoTime() - t0) / rows;
                    if (truncated) { // the plain version: every id sorted (the sampler before it sorted candidates only)
                        t0 = System.nanoTime();
                        for (int i = 0; i < rows; i++) NaiveSampling.truncated(logits, t, 0, tp[1], rng.nextDouble());
                        if (rep >= 0) naive[rep] = (System.nanoTime() - t0) / rows;
                    } else if (t > 0) { // the plain version: Math.exp per id (the sampler before its own exp)
                        t0 = System.nanoTime();
                        for (int i = 0; i < rows; i++) NaiveSampling.full(logits, t, rng.nextDouble());
                        if (rep >= 0) naive[rep] = (System.nanoTime() - t0) / rows;
                    }
                }
                Arrays.sort(times);
                Arrays.sort(naive);
                System.out.printf("| %d | %s | %.1f | %.1f | %s |%n", v, t == 0 ? "0 (greedy)" : truncated ? "1, top_p 0.95" : "1",
                        times[0] / 1e3, times[3] / 1e3, t > 0
                                ? String.format(java.util.Locale.ROOT, "%.1f | %.1f", naive[0] / 1e3, naive[3] / 1e3) : "- | -");
            }
        }
    }
}
