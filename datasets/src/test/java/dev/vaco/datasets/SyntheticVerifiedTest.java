package dev.vaco.datasets;

import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The generator's worked solutions are what the RL reward accepts: the strict verifier passes every one. */
class SyntheticVerifiedTest {
    @Test
    void theStrictVerifierAcceptsTenThousandGeneratedSolutions() {
        Map<String, Integer> verdicts = new TreeMap<>();
        try (Verifier v = new Verifier(VerifierConfig.strictDefaults())) {
            Iterator<Problem> train = SyntheticMath.stream(11);
            for (int i = 0; i < 10_000; i++) {
                Problem p = i % 2 == 0 ? train.next() : SyntheticMath.testSet(1, 1000 + i).get(0);
                Verdict d = v.verifyGold(p.goldAnswer(), p.solution());
                verdicts.merge(d.status().name(), 1, Integer::sum);
                assertThat(d.correct()).as("%s: %s -> %s", p.question(), p.solution(), d).isTrue();
            }
        }
        assertThat(verdicts).containsExactly(Map.entry("CORRECT", 10_000));
    }
}
