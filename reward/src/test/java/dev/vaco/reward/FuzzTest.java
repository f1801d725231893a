package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Seeded token soup: every input must give a verdict without an internal error (NPE, index bugs, ...). */
class FuzzTest {
    private static final String[] PIECES = {
            "1", "2", "0", "-", "+", "*", "/", "^", "_", "(", ")", "[", "]", "{", "}", "\\{", "\\}", ",", ";", ":", "=",
            "<", ">", "\\le", "\\ge", "\\ne", "!", "%", "\\%", "|", "&", "\\\\", "x", "y", "e", "\\pi", "\\infty",
            "\\frac", "\\dfrac", "\\sqrt", "\\sqrt[3]", "\\sin", "\\log_2", "\\ln", "\\pm", "\\cup", "\\in", "\\approx",
            "\\text{and}", "\\text{cm}", "\\text{Evelyn}", "\\boxed{", "\\boxed", "\\fbox{", "$", "$$", "\\(", "\\)",
            "\\[", "\\]", "\\begin{pmatrix}", "\\end{pmatrix}", "\\begin{array}{cc}", "\\end{array}", "\\left(",
            "\\right)", "\\cdot", "\\times", "0.5", "1,000", "14{,}916", ".", " ", "\n", "The answer is ", "#### ",
            "Final Answer: ", "\\binom", "'", "^\\circ", "\uFFFD", "\\mathrm{e}", "a_{37}", "204_5", "3e5", "\\!"};

    @Test
    void randomInputsNeverCauseInternalErrors() {
        SplittableRandom rnd = new SplittableRandom(20261126L);
        List<String> failures = new ArrayList<>();
        try (Verifier v = new Verifier(VerifierConfig.defaults())) {
            for (int i = 0; i < 3_000; i++) {
                String a = soup(rnd);
                String b = soup(rnd);
                for (Verdict d : List.of(v.verifyAnswers(a, b), v.verify(a, b), v.verifyGold("1", b))) {
                    if (d.detail() != null && d.detail().startsWith("internal error")) {
                        failures.add(d.detail() + "  <-  " + a + "  ||  " + b);
                    }
                }
            }
        }
        assertThat(failures).as("internal errors").isEmpty();
    }

    private static String soup(SplittableRandom rnd) {
        int n = 1 + rnd.nextInt(14);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(PIECES[rnd.nextInt(PIECES.length)]);
        }
        return b.toString();
    }
}
