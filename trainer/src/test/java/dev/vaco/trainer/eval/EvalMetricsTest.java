package dev.vaco.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class EvalMetricsTest {

    private static JudgedSample ok(String a) {
        return new JudgedSample(a, true);
    }

    private static JudgedSample bad(String a) {
        return new JudgedSample(a, false);
    }

    private static final Function<String, String> STRIP = s -> s.strip().replace(",", "");

    @Test
    void majorityUsesTheCallersEquivalenceKey() {
        // "1,000" and " 1000" are one answer under STRIP: 2 votes (correct) beat "7" with 1.
        ProblemSamples p = new ProblemSamples("p", null, null,
                List.of(bad("7"), ok("1,000"), ok(" 1000"), bad("8")));
        assertThat(EvalMetrics.majAtK(p, 4, STRIP)).isEqualTo(1.0);
        assertThat(EvalMetrics.majAtK(p, 4, Function.identity())).isEqualTo(0.0); // 4-way tie: first (7) wins
    }

    @Test
    void majorityTiesGoToTheEarliestAnswerAndNullsDoNotVote() {
        ProblemSamples p = new ProblemSamples("p", null, null,
                List.of(new JudgedSample(null, false), ok("5"), bad("6"), bad("6"), ok("5")));
        assertThat(EvalMetrics.majAtK(p, 4, STRIP)).isEqualTo(0.0); // within k=4: 6 has 2, 5 has 1
        assertThat(EvalMetrics.majAtK(p, 5, STRIP)).isEqualTo(1.0); // 5 and 6 tie at 2: 5 came first
        assertThat(EvalMetrics.majAtK(new ProblemSamples("q", null, null, List.of(new JudgedSample(null, false))), 1, STRIP))
                .isEqualTo(0.0);
        assertThat(EvalMetrics.majAtK(p, 5, s -> s.equals("5") ? null : s)).isEqualTo(0.0); // null key: no vote
    }

    @Test
    void meanAndPassAtK() {
        ProblemSamples p = new ProblemSamples("p", "1", "Algebra", List.of(ok("1"), bad("2"), bad("3"), ok("1")));
        assertThat(EvalMetrics.meanAtK(p, 2)).isEqualTo(0.5);
        assertThat(EvalMetrics.meanAtK(p, 4)).isEqualTo(0.5);
        assertThat(EvalMetrics.passAtK(p, 1)).isCloseTo(0.5, within(1e-15));
        assertThat(EvalMetrics.passAtK(p, 3)).isEqualTo(1.0);
        assertThatThrownBy(() -> EvalMetrics.meanAtK(p, 5)).hasMessageContaining("k must be in [1, n=4], found 5");
    }

    @Test
    void breakdownByLevelAndSubject() {
        List<ProblemSamples> ps = List.of(
                new ProblemSamples("a", "1", "Algebra", List.of(ok("1"))),
                new ProblemSamples("b", "1", "Geometry", List.of(bad("1"))),
                new ProblemSamples("c", "2", "Algebra", List.of(ok("1"))),
                new ProblemSamples("d", null, null, List.of(bad("1"))));

        Map<String, EvalMetrics.Summary> byLevel = EvalMetrics.byLevel(ps, p -> EvalMetrics.meanAtK(p, 1));
        assertThat(byLevel).containsExactly(
                Map.entry("(none)", new EvalMetrics.Summary(1, 0.0)),
                Map.entry("1", new EvalMetrics.Summary(2, 0.5)),
                Map.entry("2", new EvalMetrics.Summary(1, 1.0)));
        Map<String, EvalMetrics.Summary> bySubject = EvalMetrics.bySubject(ps, p -> EvalMetrics.meanAtK(p, 1));
        assertThat(bySubject.get("Algebra")).isEqualTo(new EvalMetrics.Summary(2, 1.0));
        assertThat(EvalMetrics.mean(ps, p -> EvalMetrics.meanAtK(p, 1))).isEqualTo(0.5);
    }
}
