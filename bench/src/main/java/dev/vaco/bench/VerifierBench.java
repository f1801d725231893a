package dev.vaco.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.reward.AnswerExtractor;
import dev.vaco.reward.SharedData;
import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Throughput/latency of the verifier on GSM8K golds and MATH-500 answers against reformatted copies of
 * themselves (so every comparison goes through extraction, parsing and equivalence, and should be CORRECT).
 *
 * <p>Not a test; run as documented in docs/bench/reward.md:
 * {@code taskset -c 0 java -cp <classpath> dev.vaco.bench.VerifierBench [passes]}
 */
public final class VerifierBench {

    record Pair(String gold, String pred) {
    }

    public static void main(String[] args) throws Exception {
        int passes = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path gsm = SharedData.find("datasets/gsm8k_test.jsonl").orElseThrow(() -> new IllegalStateException("../shared/datasets not found"));
        Path math = SharedData.find("datasets/math500_test.jsonl").orElseThrow();
        List<Pair> gsmPairs = gsm8k(gsm);
        List<Pair> mathPairs = math500(math);
        System.out.printf("java %s, %d available processors%n", System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
        try (Verifier v = new Verifier(VerifierConfig.strictDefaults())) {
            run("GSM8K test (strict, gold vs reformatted gold)", gsmPairs, v, passes);
            run("MATH-500 (strict, gold vs reformatted gold)", mathPairs, v, passes);
            List<Pair> shifted = new ArrayList<>();
            for (int i = 0; i < mathPairs.size(); i++) {
                shifted.add(new Pair(mathPairs.get(i).gold(), mathPairs.get((i + 1) % mathPairs.size()).pred()));
            }
            run("MATH-500 (strict, gold vs the NEXT row's answer: full parse, mostly WRONG)", shifted, v, passes);
        }
    }

    static List<Pair> gsm8k(Path p) throws Exception {
        ObjectMapper om = new ObjectMapper();
        List<Pair> out = new ArrayList<>();
        int i = 0;
        for (String line : Files.readAllLines(p)) {
            String gold = AnswerExtractor.gsm8kGold(om.readTree(line).get("answer").asText()).orElseThrow();
            String plain = gold.replace(",", "");
            String pred = switch (i++ % 4) {
                case 0 -> "Adding up, the total is " + plain + ".\nThe answer is $\\boxed{" + withCommas(plain) + "}$";
                case 1 -> "So the final answer is \\boxed{" + plain + "}.";
                case 2 -> "Therefore $x = \\boxed{\\$" + withCommas(plain) + "}$";
                default -> "Step 1: 3 + 4 = 7. Step 2: it is \\boxed{" + plain + ".0}";
            };
            out.add(new Pair(gold, pred));
        }
        return out;
    }

    static List<Pair> math500(Path p) throws Exception {
        ObjectMapper om = new ObjectMapper();
        List<Pair> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) {
            JsonNode row = om.readTree(line);
            String gold = row.get("answer").asText();
            String pred = "We simplify step by step and obtain $y = 2$ on the way. Hence the answer is $\\boxed{"
                    + gold.replace("\\frac", "\\dfrac").replaceAll(",(?!\\d{3}|\\\\!)", ", ") + "}$.";
            out.add(new Pair(gold, pred));
        }
        return out;
    }

    static String withCommas(String n) {
        if (!n.matches("\\d{4,}")) {
            return n;
        }
        StringBuilder b = new StringBuilder(n);
        for (int i = b.length() - 3; i > 0; i -= 3) {
            b.insert(i, ',');
        }
        return b.toString();
    }

    /**
     * The first third of the passes warm the JIT up; latencies pool over the rest, and throughput is the median
     * pass, because on a shared box a single preempted pass would otherwise dominate.
     */
    static void run(String name, List<Pair> pairs, Verifier v, int passes) {
        int warm = passes / 3;
        int measured = passes - warm;
        long[] ns = new long[pairs.size() * measured];
        double[] rates = new double[measured];
        int correct = 0;
        for (int pass = 0; pass < passes; pass++) {
            correct = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < pairs.size(); i++) {
                long s = System.nanoTime();
                Verdict d = v.verifyGold(pairs.get(i).gold(), pairs.get(i).pred());
                long dt = System.nanoTime() - s;
                if (pass >= warm) {
                    ns[(pass - warm) * pairs.size() + i] = dt;
                }
                if (d.correct()) {
                    correct++;
                }
            }
            if (pass >= warm) {
                rates[pass - warm] = pairs.size() / ((System.nanoTime() - t0) / 1e9);
            }
        }
        Arrays.sort(ns);
        Arrays.sort(rates);
        System.out.printf("%s: n=%d, %.0f verdicts/s (median pass; min %.0f, max %.0f), p50 %.1f us, p99 %.1f us, max %.1f ms,"
                        + " CORRECT %d/%d (%d passes, %d warm-up)%n",
                name, pairs.size(), rates[measured / 2], rates[0], rates[measured - 1], ns[ns.length / 2] / 1e3,
                ns[(int) (ns.length * 0.99)] / 1e3, ns[ns.length - 1] / 1e6, correct, pairs.size(), passes, warm);
    }

}
