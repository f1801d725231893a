package dev.vaco.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.reward.SharedData;
import dev.vaco.reward.TextSoup;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Every verdict and extraction of one build on a fixed corpus, one line each, so that two builds (a speed-up and its
 * base) can be compared with {@code cmp}: the reward tests' Math-Verify pairs and conformance cases, VerifierBench's
 * three workloads, and generated texts (half of them ending in boxes).
 *
 * <p>Not a test; run in each worktree as documented in docs/bench/reward.md:
 * {@code java -cp <classpath> dev.vaco.bench.VerdictDump out.txt [generated] [seed]}
 */
public final class VerdictDump {

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int generated = args.length > 1 ? Integer.parseInt(args[1]) : 60_000;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : 7L;
        List<String[]> corpus = new ArrayList<>();
        ObjectMapper om = new ObjectMapper();
        for (String resource : new String[] {"/mathverify/pairs.jsonl", "/conformance/cases.jsonl"}) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(
                    SharedData.class.getResourceAsStream(resource), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    JsonNode n = om.readTree(line);
                    corpus.add(new String[] {n.get("gold").asText(), n.get("pred").asText()});
                }
            }
        }
        List<VerifierBench.Pair> math = VerifierBench.math500(SharedData.find("datasets/math500_test.jsonl").orElseThrow());
        for (VerifierBench.Pair p : VerifierBench.gsm8k(SharedData.find("datasets/gsm8k_test.jsonl").orElseThrow())) {
            corpus.add(new String[] {p.gold(), p.pred()});
        }
        for (int i = 0; i < math.size(); i++) {
            corpus.add(new String[] {math.get(i).gold(), math.get(i).pred()});
            corpus.add(new String[] {math.get(i).gold(), math.get((i + 1) % math.size()).pred()});
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < generated; i++) {
            String pred = i % 2 == 0 ? TextSoup.of(rnd, 16) : TextSoup.withBox(rnd);
            corpus.add(new String[] {rnd.nextBoolean() ? TextSoup.of(rnd, 6) : TextSoup.withBox(rnd), pred});
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out));
             Verifier strict = new Verifier(VerifierConfig.strictDefaults());
             Verifier lenient = new Verifier(VerifierConfig.defaults())) {
            for (int k = 0; k < corpus.size(); k++) {
                String gold = corpus.get(k)[0];
                String pred = corpus.get(k)[1];
                w.println(k + " strict " + strict.verify(gold, pred));
                w.println(k + " lenient " + lenient.verify(gold, pred));
                w.println(k + " gold " + strict.verifyGold(gold, pred));
                w.println(k + " answers " + lenient.verifyAnswers(gold, pred));
                w.println(k + " extract " + strict.extractAnswer(pred) + " " + lenient.extractAnswer(pred));
            }
        }
        System.out.printf("%d inputs, 5 lines each, in %s%n", corpus.size(), out);
    }
}
