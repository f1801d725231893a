package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vaco.reward.Verdict.Status;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Hostile inputs: every one must come back as a verdict within the deadline, with nothing thrown. */
class AdversarialTest {
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    /** Slack for thread hand-off and GC on a loaded 2-core CI box. */
    static final long SLACK_MS = 500;
    static Verifier v;

    @BeforeAll
    static void setUp() {
        v = new Verifier(VerifierConfig.defaults().withTimeout(TIMEOUT));
    }

    @AfterAll
    static void tearDown() {
        v.close();
    }

    static Stream<Arguments> hostile() {
        StringBuilder ints = new StringBuilder();
        for (int i = 1; i <= 1000; i++) {
            ints.append(i).append(", ");
        }
        byte[] bad = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, '\\', 'b', 'o', 'x', 'e', 'd', '{', (byte) 0xE2, (byte) 0x82, '}'};
        return Stream.of(
                Arguments.of("tower of tens", "\\boxed{10^{10^{10^{10}}}}"),
                Arguments.of("tower of twos", "\\boxed{2^(2^(2^100))}"),
                Arguments.of("stacked factorials", "\\boxed{100!!!!}"),
                Arguments.of("factorial of a tower", "\\boxed{(10^{10})!}"),
                Arguments.of("100k nested braces", "\\boxed{" + "{".repeat(100_000) + "1" + "}".repeat(100_000) + "}"),
                Arguments.of("100k nested parens", "$" + "(".repeat(100_000) + "1" + ")".repeat(100_000) + "$"),
                Arguments.of("1 MB answer", "\\boxed{" + "1+".repeat(500_000) + "1}"),
                Arguments.of("1 MB of text", "lorem ipsum 7 ".repeat(80_000)),
                Arguments.of("1 MB of dollars", "$".repeat(1_000_000)),
                Arguments.of("invalid UTF-8", new String(bad, StandardCharsets.UTF_8)),
                Arguments.of("replacement chars", "\\boxed{\uFFFD\uFFFD\uFFFD}"),
                Arguments.of("unclosed box", "the answer is \\boxed{" + "1".repeat(10_000)),
                Arguments.of("every integer", "\\boxed{" + ints + "}"),
                Arguments.of("huge digits", "\\boxed{" + "9".repeat(9_000) + "}"),
                Arguments.of("huge exponent literal", "\\boxed{1e999999999}"),
                Arguments.of("many pm", "\\boxed{" + "1\\pm ".repeat(40) + "1}"),
                Arguments.of("nested sqrt", "\\boxed{" + "\\sqrt{".repeat(150) + "2" + "}".repeat(150) + "}"),
                Arguments.of("deep powers", "\\boxed{" + "2^{".repeat(150) + "2" + "}".repeat(150) + "}"),
                // long spans and runs that a regex with a repeated alternation would recurse over, or rescan per start
                Arguments.of("10k unclosed parens", "\\(".repeat(5_000)),
                Arguments.of("a 10k span", "\\( " + "x + ".repeat(2_500) + "\\)"),
                Arguments.of("10k digits and spaces", "1 ".repeat(5_000)),
                Arguments.of("open boxes in dollars", "$\\boxed{".repeat(1_500)),
                Arguments.of("answer anchors", "answer: ".repeat(1_200)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void answersWithinTheDeadline(String name, String pred) {
        long t0 = System.nanoTime();
        Verdict d = v.verifyGold("5", pred);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(d).isNotNull();
        assertThat(d.status()).isNotEqualTo(Status.CORRECT);
        assertThat(ms).as("%s took %d ms (%s)", name, ms, d).isLessThan(TIMEOUT.toMillis() + SLACK_MS);
    }

    @ParameterizedTest(name = "{0} as gold")
    @MethodSource("hostile")
    void hostileGoldIsAlsoContained(String name, String gold) {
        long t0 = System.nanoTime();
        Verdict d = v.verify(gold, "\\boxed{5}");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(d).isNotNull();
        assertThat(ms).as("%s took %d ms (%s)", name, ms, d).isLessThan(TIMEOUT.toMillis() + SLACK_MS);
    }

    @Test
    void identicalHugeAnswersAreStillDecided() {
        assertThat(v.verifyAnswers("10^{10^{10^{10}}}", "10^{10^{10^{10}}}").status()).isEqualTo(Status.CORRECT);
        assertThat(v.verifyAnswers("2^{2^{2^{100}}}", "2^{2^{2^{101}}}").status()).isNotEqualTo(Status.CORRECT);
    }

    @Test
    void aTinyDeadlineYieldsTimeoutNotAnException() {
        try (Verifier hurried = new Verifier(VerifierConfig.defaults().withTimeout(Duration.ofNanos(1)))) {
            Verdict d = hurried.verifyGold("5", "\\boxed{" + "1+".repeat(4_000) + "1}");
            assertThat(d.status()).isEqualTo(Status.TIMEOUT);
        }
    }

    /** After a TIMEOUT verdict the worker must stop computing, not keep a core busy in the background. */
    @Test
    void timedOutWorkReallyStops() throws Exception {
        StringBuilder gold = new StringBuilder();
        StringBuilder pred = new StringBuilder();
        int n = 1_200; // ~7k chars: under the parser cap, ~1 s of pairwise matching without a deadline
        for (int i = 0; i < n; i++) {
            gold.append(i).append(".5,");
            pred.append(n - 1 - i).append(".5,");
        }
        try (Verifier hurried = new Verifier(VerifierConfig.defaults().withTimeout(Duration.ofMillis(20)))) {
            Verdict d = hurried.verifyAnswers(gold.substring(0, gold.length() - 1), "\\{" + pred.substring(0, pred.length() - 1) + "\\}");
            assertThat(d.status()).isEqualTo(Status.TIMEOUT);
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long deadlineNs = System.nanoTime() + 2_000_000_000L;
            boolean busy = true;
            while (busy && System.nanoTime() < deadlineNs) {
                Thread.sleep(20);
                busy = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("vaco-verify-"))
                        .anyMatch(t -> t.getState() == Thread.State.RUNNABLE
                                && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().contains("Equivalence")));
            }
            assertThat(busy).as("a worker is still inside Equivalence 2 s after its deadline").isFalse();
            assertThat(mx).isNotNull();
        }
    }

    @Test
    void evaluatorStopsWhenItsDeadlineIsCancelled() {
        Deadline d = Deadline.none();
        Expr e = LatexParser.parse("1+2+3", false, d);
        d.cancel();
        Evaluator ev = new Evaluator(d);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ev.numeric(e, java.util.Map.of()))
                .isInstanceOf(DeadlineExceededException.class);
    }
}
