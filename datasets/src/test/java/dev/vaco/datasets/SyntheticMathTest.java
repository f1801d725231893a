package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SyntheticMathTest {

    /** The tiny model's character-level vocabulary. */
    private static final Pattern ALLOWED = Pattern.compile("[0-9A-Za-z+\\-*/=().,?!:;'\"$%\\\\{}\\[\\]^_<>#&| \n]*");
    private static final Pattern WHAT_IS = Pattern.compile("What is (.+)\\?");
    private static final Pattern STEP = Pattern.compile("(\\d+)([+\\-*])(\\d+)=(-?\\d+)");

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void answersMatchAnIndependentEvaluationAndEveryStepIsRight(int level) {
        SplitMix64 rng = new SplitMix64(1000 + level);
        for (int i = 0; i < 10_000; i++) {
            SyntheticMath.Generated g = SyntheticMath.generate(level, rng);
            Problem p = g.problem();
            String gold = p.goldAnswer();

            assertThat(ArithmeticOracle.eval(g.expression())).as(g.expression()).isEqualTo(new BigInteger(gold));
            assertThat(gold).matches("\\d+");
            if (level < 5) {
                Matcher m = WHAT_IS.matcher(p.question());
                assertThat(m.matches()).as(p.question()).isTrue();
                assertThat(m.group(1)).isEqualTo(g.expression());
                assertThat(ArithmeticOracle.eval(m.group(1))).isEqualTo(new BigInteger(gold));
            }
            String[] lines = p.solution().split("\n");
            assertThat(lines[lines.length - 1]).isEqualTo("\\boxed{" + gold + "}");
            assertThat(p.solution()).endsWith("\\boxed{" + gold + "}");
            for (int j = 0; j < lines.length - 1; j++) {
                Matcher step = STEP.matcher(lines[j]);
                assertThat(step.matches()).as("step line '%s' of %s", lines[j], p.question()).isTrue();
                String lhs = step.group(1) + step.group(2) + step.group(3);
                assertThat(ArithmeticOracle.eval(lhs)).as(lines[j]).isEqualTo(new BigInteger(step.group(4)));
            }
            if (lines.length > 1) {
                // The last step's result is the answer.
                assertThat(lines[lines.length - 2]).endsWith("=" + gold);
            }
            assertThat(p.level()).isEqualTo(Integer.toString(level));
            assertThat(p.source()).isEqualTo("synthetic");
        }
    }

    /**
     * Levels 6-9 (the demo's step chains): k = level - 5 operations of + and - left to right, a two-digit start, one-digit
     * operands, every partial value in 0..99, worked one operation a line as levels 1-4 are.
     */
    @ParameterizedTest
    @ValueSource(ints = {6, 7, 8, 9})
    void stepChainsAreWorkedOneOperationALineLeftToRight(int level) {
        SplitMix64 rng = new SplitMix64(500 + level);
        int k = level - 5;
        Pattern chain = Pattern.compile("What is (\\d{2})(([+-]\\d){" + k + "})\\?");
        for (int i = 0; i < 10_000; i++) {
            Problem p = SyntheticMath.generate(level, rng).problem();
            Matcher m = chain.matcher(p.question());
            assertThat(m.matches()).as(p.question()).isTrue();
            BigInteger gold = new BigInteger(p.goldAnswer());
            assertThat(ArithmeticOracle.eval(m.group(1) + m.group(2))).isEqualTo(gold);
            String[] lines = p.solution().split("\n");
            assertThat(lines).hasSize(k + 1);
            assertThat(lines[k]).isEqualTo("\\boxed{" + gold + "}");
            long partial = Long.parseLong(m.group(1));
            for (int j = 0; j < k; j++) {
                String op = m.group(2).substring(2 * j, 2 * j + 2);
                long next = partial + (op.charAt(0) == '+' ? 1 : -1) * (op.charAt(1) - '0');
                assertThat(next).as(p.question()).isBetween(0L, 99L);
                assertThat(lines[j]).isEqualTo(partial + op + "=" + next);
                partial = next;
            }
            assertThat(p.level()).isEqualTo(Integer.toString(level));
            assertThat(p.question() + p.solution()).matches(ALLOWED).hasSizeLessThan(70);
        }
    }

    @Test
    void theDefaultMixNeverDrawsAStepChainAndTheirTestSideIsDisjointFromTraining() {
        assertThat(LevelMix.DEFAULT.weights().subList(5, 9)).containsOnly(0.0);
        LevelMix chains = LevelMix.of(6, 7, 8, 9);
        java.util.Set<String> test = new java.util.HashSet<>();
        for (Problem p : SyntheticMath.testSet(400, 1, chains)) test.add(p.question());
        assertThat(take(SyntheticMath.stream(2, chains), 20_000)).noneMatch(p -> test.contains(p.question()));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void onlyAllowedCharactersAndShort(int level) {
        SplitMix64 rng = new SplitMix64(77 + level);
        int[] maxLen = {0, 35, 50, 60, 80, 130};
        int[] opsByLevel = {0, 1, 2, 2, 3, -1};
        for (int i = 0; i < 20_000; i++) {
            SyntheticMath.Generated g = SyntheticMath.generate(level, rng);
            Problem p = g.problem();
            assertThat(p.question()).matches(ALLOWED);
            assertThat(p.solution()).matches(ALLOWED);
            int total = p.question().length() + p.solution().length();
            assertThat(total).as(p.question()).isLessThanOrEqualTo(maxLen[level]).isLessThan(200);
            if (opsByLevel[level] > 0) {
                assertThat(p.solution().split("\n")).hasSize(opsByLevel[level] + 1);
            }
        }
    }

    @Test
    void levelsHaveTheirDocumentedShape() {
        SplitMix64 rng = new SplitMix64(5);
        boolean sawParens = false;
        for (int i = 0; i < 5000; i++) {
            String e1 = SyntheticMath.generate(1, rng).expression();
            assertThat(e1).matches("\\d{1,2}[+-]\\d{1,2}");
            String e2 = SyntheticMath.generate(2, rng).expression();
            assertThat(e2).matches("\\d{1,2}[+-]\\d{1,2}[+-]\\d{1,2}");
            String e3 = SyntheticMath.generate(3, rng).expression();
            assertThat(e3).contains("*").containsAnyOf("+", "-");
            sawParens |= e3.contains("(");
            String e4 = SyntheticMath.generate(4, rng).expression();
            assertThat(e4.replaceAll("[^+*-]", "")).hasSize(3).contains("*");
        }
        assertThat(sawParens).isTrue();
    }

    @Test
    void streamIsDeterministicBySeed() {
        List<Problem> a = take(SyntheticMath.stream(42), 2000);
        List<Problem> b = take(SyntheticMath.stream(42), 2000);
        List<Problem> c = take(SyntheticMath.stream(43), 2000);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
        assertThat(SyntheticMath.testSet(300, 9)).isEqualTo(SyntheticMath.testSet(300, 9));
    }

    @Test
    void pinnedFirstProblemsGuardAgainstSilentChanges() {
        // If this changes, every run's data changes: only update it on purpose.
        Iterator<Problem> it = SyntheticMath.stream(1, 3);
        Problem first = it.next();
        assertThat(first.question() + " | " + first.solution().replace("\n", " / "))
                .isEqualTo(PINNED_FIRST_L3_SEED_1);
    }

    static final String PINNED_FIRST_L3_SEED_1 = "What is 5*8-12? | 5*8=40 / 40-12=28 / \\boxed{28}";

    @Test
    void defaultMixRoughlyMatchesItsWeights() {
        Map<String, Integer> counts = new HashMap<>();
        take(SyntheticMath.stream(3), 20_000).forEach(p -> counts.merge(p.level(), 1, Integer::sum));
        double[] w = {0.15, 0.20, 0.25, 0.20, 0.20};
        for (int l = 1; l <= 5; l++) {
            assertThat(counts.get(Integer.toString(l)) / 20_000.0).isCloseTo(w[l - 1],
                    org.assertj.core.data.Offset.offset(0.02));
        }
    }

    @Test
    void trainAndTestAreDisjointOn100kDraws() {
        List<Problem> test = SyntheticMath.testSet(1000, 11);
        Set<String> testQuestions = new HashSet<>();
        test.forEach(p -> testQuestions.add(p.question()));
        assertThat(testQuestions).hasSize(1000);

        Set<String> trainExprs = new HashSet<>();
        Iterator<Problem> train = SyntheticMath.stream(12);
        List<String> leaks = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            Problem p = train.next();
            if (testQuestions.contains(p.question())) {
                leaks.add(p.question());
            }
            trainExprs.add(canonical(p));
        }
        assertThat(leaks).isEmpty();
        // Disjoint by the split key too (the arithmetic), not only by surface text.
        assertThat(test.stream().map(SyntheticMathTest::canonical).filter(trainExprs::contains).toList()).isEmpty();
        // And the held-out share of raw draws is about 10%.
        SplitMix64 rng = new SplitMix64(13);
        int held = 0;
        for (int i = 0; i < 100_000; i++) {
            if (SyntheticMath.isHeldOut(SyntheticMath.generate(1 + i % 5, rng).expression())) {
                held++;
            }
        }
        assertThat(held / 100_000.0).isBetween(0.08, 0.12);
    }

    @Test
    void testSetOfOneLevelAndTooLargeRequests() {
        List<Problem> l1 = SyntheticMath.testSet(500, 1, LevelMix.of(1));
        assertThat(l1).allSatisfy(p -> assertThat(p.level()).isEqualTo("1"));
        assertThat(l1.stream().map(Problem::question).distinct().count()).isEqualTo(500);
        assertThatThrownBy(() -> SyntheticMath.testSet(100_000, 1, LevelMix.of(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("distinct held-out problems");
    }

    @Test
    void invalidArguments() {
        assertThatThrownBy(() -> SyntheticMath.generate(10, new SplitMix64(0))).hasMessageContaining("found 10");
        assertThatThrownBy(() -> SyntheticMath.generate(0, new SplitMix64(0))).hasMessageContaining("found 0");
        assertThatThrownBy(() -> LevelMix.of()).hasMessageContaining("at least one level");
        assertThatThrownBy(() -> new LevelMix(List.of(1.0, 2.0))).hasMessageContaining("found 2");
    }

    /** The expression the split hashes, recovered from the worked solution's structure via the generator. */
    private static String canonical(Problem p) {
        // Re-derive by regenerating is not possible from the problem alone; the question is a faithful key
        // for levels 1-4 ("What is E?"), and for word problems the steps determine the arithmetic.
        Matcher m = WHAT_IS.matcher(p.question());
        return m.matches() ? m.group(1) : "steps:" + p.solution();
    }

    private static List<Problem> take(Iterator<Problem> it, int n) {
        List<Problem> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(it.next());
        }
        return out;
    }
}
