package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vaco.reward.AnswerExtractor.Extracted;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link EndingBox} answers only where the full candidate search (its oracle) gives the same answer. */
class EndingBoxTest {

    private static void assertSameAsSearch(String t) {
        Extracted fast = EndingBox.answer(t);
        for (boolean plainNumbers : new boolean[] {true, false}) {
            assertThat(Optional.ofNullable(fast)).as("%s (plain numbers %s)", t, plainNumbers)
                    .isEqualTo(PriorityExtractor.searchBoxed(t, plainNumbers, AnswerExtractorTest::parses));
        }
    }

    @Test
    void decidesOnlyWhatTheSearchWouldDecideOnGeneratedOutputs() {
        SplittableRandom rnd = new SplittableRandom(20261207L);
        int bare = 0;
        int inSpan = 0;
        for (int n = 0; n < 200_000; n++) {
            String t = n % 4 == 0 ? TextSoup.of(rnd, 16) : TextSoup.withBox(rnd);
            Extracted fast = EndingBox.answer(t);
            if (fast != null) {
                assertSameAsSearch(t);
                if (t.startsWith("$", t.lastIndexOf('}') + 1)) {
                    inSpan++;
                } else {
                    bare++;
                }
            }
        }
        // both shapes are exercised, not only declined
        System.out.printf("EndingBox decided %d bare boxes and %d boxes in spans of 200,000 texts%n", bare, inSpan);
        assertThat(bare).isGreaterThan(5_000);
        assertThat(inSpan).isGreaterThan(2_000);
    }

    @Test
    void decidesTheUsualClosingLines() {
        for (String t : new String[] {"So the final answer is \\boxed{1450}.", "Step 2: it is \\boxed{1450.0}",
                "The answer is $\\boxed{1,450}$", "Therefore $x = \\boxed{\\$1,450}$",
                "We obtain $y = 2$ on the way. Hence the answer is $\\boxed{\\dfrac{1}{2}}$.", "\\boxed{5} apples",
                "$\\boxed{25}$ percent", "**Final Answer** \\boxed{(1, 4)}", "Hence the answer is $\\boxed{(3, 4]}$."}) {
            assertThat(EndingBox.answer(t)).as(t).isNotNull();
            assertSameAsSearch(t);
        }
    }

    @Test
    void leavesToTheSearchWhatTheTailOrAJoinerCouldChange() {
        for (String t : new String[] {
                "The final answer is $a$, $\\boxed{5}$.", // a phrase's group takes in "$a$" too: "a, 5"
                "$\\boxed{1}$ and $\\boxed{2}$", // one group of two boxes
                "The final answer is 7. I hope so. \\boxed{5}.", // the first tier's 7, not a box: no strict answer
                "#### 2\n\\boxed{1}.", // GSM8K's answer line competes
                "\\boxed{5} or 6", "\\boxed{5} \\(6\\)", "$$\\boxed{5}$$", "\\boxed{5}$", // a digit or closer after it
                "\\boxed{x} = \\frac{1}{2}", "\\boxed 5}", // the last '}' is not a braced box's
                "a [$\\boxed{1} x] }$ percent", "\\[ $\\boxed{1}\\] }$", // a bracket span may hold the box
                "$\\boxed{1\n}$"}) { // an inline span does not cross a line
            assertThat(EndingBox.answer(t)).as(t).isNull();
        }
    }
}
