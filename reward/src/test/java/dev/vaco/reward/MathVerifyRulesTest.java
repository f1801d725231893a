package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Math-Verify's rules, one test per rule, on whole texts as {@code verify(parse(gold), parse(pred))} sees them (gold
 * first, model output second). Every expectation here was checked against Math-Verify 0.8.0; the WRONG ones are the
 * point as much as the CORRECT ones: a verifier that accepts more teaches a policy to exploit it.
 */
class MathVerifyRulesTest extends VerifierFixture {
    static boolean correct(String gold, String pred) {
        return v.verify(gold, pred).correct();
    }

    @Nested
    class Relations {
        /** x = 2 is 2 and 2 is x = 2. */
        @Test
        void anAssignmentAnswersWithItsValueAgainstABareGoldAndBack() {
            assertThat(correct("$x = 2$", "The answer is $x = 2$.")).isTrue();
            assertThat(correct("$x = 2$", "The answer is $2$.")).isTrue();
            assertThat(correct("$2$", "The answer is $x = 2$.")).isTrue();
            assertThat(correct("$x = 5$", "The answer is $5 = x$.")).isTrue();
        }

        /** z = 10 is not w = 10; a = b = 3 is a = 3, not b = 3. */
        @Test
        void twoAssignmentsKeepTheirNames() {
            assertThat(correct("$z = 10$", "The answer is $w = 10$.")).isFalse();
            assertThat(correct("$a = b = 3$", "The answer is $a = 3$.")).isTrue();
            assertThat(correct("$a = b = 3$", "The answer is $b = 3$.")).isFalse();
            assertThat(correct("$a = b = 3$", "The answer is $3$.")).isTrue();
        }

        /** x = 5 is not 2x = 10; 2x + 3 = 7 does not accept x = 2. */
        @Test
        void aOneVariableEquationIsNotItsMultiple() {
            assertThat(correct("$x = 5$", "The answer is $2x = 10$.")).isFalse();
            assertThat(correct("$2x + 3 = 7$", "The answer is $x = 2$.")).isFalse();
        }

        /** 12 - 5 = 7 answers 7, 12 - 5 = 8 does not; a gold equation is not its value. */
        @Test
        void aPredictedChainClaimsItsLastValue() {
            assertThat(correct("$7$", "So $12 - 5 = 7$.")).isTrue();
            assertThat(correct("$7$", "So $12 - 5 = 8$.")).isFalse();
            assertThat(correct("$12 - 5 = 7$", "The answer is $7$.")).isFalse();
        }

        /** a/b = 1/2 is b/a = 2; x + y = 5 is y = 5 - x. */
        @Test
        void equationsInSeveralVariablesCompareByTheirSolutions() {
            assertThat(correct("$\\frac{a}{b} = \\frac{1}{2}$", "The answer is $\\frac{1}{2}$.")).isTrue();
            assertThat(correct("$\\frac{a}{b} = \\frac{1}{2}$", "The answer is $\\frac{b}{a} = 2$.")).isTrue();
            assertThat(correct("$x + y = 5$", "The answer is $y = 5 - x$.")).isTrue();
            assertThat(correct("$x + y = 5$", "The answer is $5$.")).isTrue();
        }

        /** x > 2 is 2 < x, not 2x > 4; chains link by link. */
        @Test
        void inequalitiesMirrorButDoNotScale() {
            assertThat(correct("$x > 2$", "The answer is $2 < x$.")).isTrue();
            assertThat(correct("$x > 2$", "The answer is $2x > 4$.")).isFalse();
            assertThat(correct("$1 < x < 3$", "The answer is $3 > x > 1$.")).isFalse();
        }
    }

    @Nested
    class IntervalsAndSets {
        /** 1 < x <= 4 is (1, 4], not [1, 4]; x > 2 is (2, oo). */
        @Test
        void aGoldInequalityMatchesItsInterval() {
            assertThat(correct("$1 < x \\le 4$", "The answer is $(1, 4]$.")).isTrue();
            assertThat(correct("$1 < x \\le 4$", "The answer is $[1, 4]$.")).isFalse();
            assertThat(correct("$x > 2$", "The answer is $(2, \\infty)$.")).isTrue();
        }

        /** the default call does not turn a prediction into a set. */
        @Test
        void aPredictedInequalityDoesNotMatchAGoldInterval() {
            assertThat(correct("$(1, 4]$", "The answer is $1 < x \\le 4$.")).isFalse();
        }

        /** {1, 4} is (1, 4) and (4, 1). */
        @Test
        void aGoldSetMatchesAPairInAnyOrder() {
            assertThat(correct("$\\{1, 4\\}$", "The answer is $(1, 4)$.")).isTrue();
            assertThat(correct("$\\{1, 4\\}$", "The answer is $(4, 1)$.")).isTrue();
        }

        /** (1, 4) is {1, 4} but not {4, 1}; [1, 4] is not {1, 4}. */
        @Test
        void aGoldPairMatchesASetInTheOrderWritten() {
            assertThat(correct("$(1, 4)$", "The answer is $\\{4, 1\\}$.")).isFalse();
            assertThat(correct("$(1, 4)$", "The answer is $\\{1, 4\\}$.")).isTrue();
            assertThat(correct("$[1, 4]$", "The answer is $\\{1, 4\\}$.")).isFalse();
        }

        /** (1, 4) is not (4, 1); {1,2,3} is {3,1,2}; (1,2,3) is not (3,1,2). */
        @Test
        void tuplesAreOrderedAndSetsAreNot() {
            assertThat(correct("$(1, 4)$", "The answer is $(4, 1)$.")).isFalse();
            assertThat(correct("$\\{1, 2, 3\\}$", "The answer is $\\{3, 1, 2\\}$.")).isTrue();
            assertThat(correct("$(1, 2, 3)$", "The answer is $(3, 1, 2)$.")).isFalse();
        }
    }

    @Nested
    class SeveralAnswers {
        /** boxes joined by "and" or "; " are a list; after a full stop the last stands. */
        @Test
        void boxesCloseTogetherOrJoinedByASeparatorAreOneList() {
            assertThat(correct("$1, 2$", "The roots are $\\boxed{1}$ and $\\boxed{2}$.")).isTrue();
            assertThat(correct("$2$", "First \\boxed{1} was wrong; redoing it gives \\boxed{2}.")).isFalse();
            assertThat(correct("$2$", "First \\boxed{1} was wrong. Redoing it gives \\boxed{2}.")).isTrue();
            assertThat(correct("$1, 2$", "The answer is $1$ or $2$.")).isTrue();
        }

        /** x=1, y=2 is not x=2, y=1, in either notation. */
        @Test
        void swappedSolutionValuesAreWrong() {
            assertThat(correct("$x=1, y=2$", "So $\\boxed{x=2, y=1}$.")).isFalse();
            assertThat(correct("$(1, 2)$", "So $\\boxed{x=2, y=1}$.")).isFalse();
            assertThat(correct("$x=1, y=2; x=3, y=4$", "So $\\boxed{(1, 2), (4, 3)}$.")).isFalse();
        }

        /** y=2, x=1 and (1, 2) are x=1, y=2; ";" separates solutions. */
        @Test
        void solutionsMayComeInAnyOrderOrAsTuples() {
            assertThat(correct("$x=1, y=2$", "So $\\boxed{y=2, x=1}$.")).isTrue();
            assertThat(correct("$x=1, y=2$", "So $\\boxed{(1, 2)}$.")).isTrue();
            assertThat(correct("$x=1, y=2; x=3, y=4$", "So $\\boxed{(3, 4), (1, 2)}$.")).isTrue();
        }
    }

    @Nested
    class UndoneArithmetic {
        /** a matrix sum, 3 * 4 and plain 2 + 3 count as their values; a wrong value stays wrong. */
        @Test
        void sumsAndProductsLeftUndoneAreEvaluated() {
            assertThat(correct("$\\begin{pmatrix} 4 \\\\ 6 \\end{pmatrix}$", "So $\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix} + \\begin{pmatrix} 3 \\\\ 4 \\end{pmatrix}}$.")).isTrue();
            assertThat(correct("$\\begin{pmatrix} 4 \\\\ 7 \\end{pmatrix}$", "So $\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix} + \\begin{pmatrix} 3 \\\\ 4 \\end{pmatrix}}$.")).isFalse();
            assertThat(correct("$12$", "So $\\boxed{3 \\cdot 4}$.")).isTrue();
            assertThat(correct("$13$", "So $\\boxed{3 \\cdot 4}$.")).isFalse();
            assertThat(correct("$5$", "The total is 2 + 3")).isTrue();
        }
    }

    @Nested
    class Numbers {
        /** 0.333333 is 1/3, 0.33 is not; 4.0 is 4, 4.0000001 is not; 0.5000001 is 1/2. */
        @Test
        void aDecimalIsRoundedToSixPlacesButAnIntegerIsNot() {
            assertThat(correct("$\\frac{1}{3}$", "The answer is $0.333333$.")).isTrue();
            assertThat(correct("$\\frac{1}{3}$", "The answer is $0.33$.")).isFalse();
            assertThat(correct("$4$", "The answer is $4.0$.")).isTrue();
            assertThat(correct("$4$", "The answer is $4.0000001$.")).isFalse();
            assertThat(correct("$\\frac{1}{2}$", "The answer is $0.5000001$.")).isTrue();
        }

        /** 1,5 is 1.5 and 1,500 is 1500 in prose; in LaTeX 1,5 is a list. */
        @Test
        void aCommaIsADecimalCommaOrAThousandsSeparatorInPlainText() {
            assertThat(correct("$1.5$", "The answer is 1,5")).isTrue();
            assertThat(correct("$1500$", "The answer is 1,500")).isTrue();
            assertThat(correct("$1.5$", "The answer is $1,5$")).isFalse();
        }

        /** 12{,}000 is 12000; 12\,000 is 12 * 000. */
        @Test
        void latexThousandsNeedABracedCommaNotAThinSpace() {
            assertThat(correct("$12000$", "The answer is $12{,}000$.")).isTrue();
            assertThat(correct("$12000$", "The answer is $12\\,000$.")).isFalse();
        }
    }

    @Nested
    class UnitsAndText {
        /** 30 cm is 30 and 30 m; 30 degrees is 30. */
        @Test
        void aTrailingUnitIsDroppedAndAnyUnitMatches() {
            assertThat(correct("$30$", "The answer is $30 \\text{ cm}$.")).isTrue();
            assertThat(correct("$30 \\text{ cm}$", "The answer is $30 \\text{ m}$.")).isTrue();
            assertThat(correct("$30$", "The answer is $30^\\circ$.")).isTrue();
            assertThat(correct("$30$", "The answer is $30$ apples")).isTrue();
        }

        /** \( 30 \text{ cm} \) is not 30, \( 30\text{ cm}\) is. */
        @Test
        void aUnitFollowedBySpaceInsideTheSpanIsKept() {
            assertThat(correct("$30$", "The answer is \\( 30 \\text{ cm} \\)")).isFalse();
            assertThat(correct("$30$", "The answer is \\( 30\\text{ cm}\\)")).isTrue();
        }

        /** Math-Verify reads "\$30." as no number it can anchor. */
        @Test
        void aDollarAmountInProseIsNotExtracted() {
            assertThat(correct("$30$", "It costs \\$30.")).isFalse();
        }

        /** Even is even, not odd. */
        @Test
        void textAnswersCompareAsWords() {
            assertThat(correct("$\\text{Even}$", "The answer is $\\text{even}$.")).isTrue();
            assertThat(correct("$\\text{Even}$", "The answer is $\\text{odd}$.")).isFalse();
        }
    }

    @Nested
    class FinalAnswerPhrases {
        /** "the answer is 4, not 5" is 4; "not 4; it is 5" is 4. */
        @Test
        void theFirstValueAfterTheAnswerAnchorCounts() {
            assertThat(correct("$4$", "The answer is 4, not 5.")).isTrue();
            assertThat(correct("$5$", "The answer is 4, not 5.")).isFalse();
            assertThat(correct("$5$", "The answer is not 4; it is 5.")).isFalse();
        }

        /** "Answer: 15. Check: 16 + 0 = 16." is 16. */
        @Test
        void aValueAfterAnEqualsSignWithinTheAnchorsReachCounts() {
            assertThat(correct("$16$", "Answer: 15. Check: 16 + 0 = 16.")).isTrue();
        }

        /** "The final answer is $7$. I hope it is correct." beats a box. */
        @Test
        void theIHopeLineOutranksABox() {
            assertThat(correct("$7$", "The final answer is $7$. I hope it is correct. \\boxed{8}")).isTrue();
            assertThat(correct("$8$", "\\boxed{8} The final answer is $7$. I hope it is correct.")).isFalse();
        }
    }

    @Nested
    class Delimiters {
        /** \( \), $ $ and \[ \] over lines, or plain 1/2. */
        @Test
        void displayAndParenthesisSpansMayCrossLines() {
            assertThat(correct("$\\frac{1}{2}$", "The answer is \\(\n\\frac{1}{2}\n\\)")).isTrue();
            assertThat(correct("$\\frac{1}{2}$", "The answer is $\n\\frac{1}{2}\n$")).isTrue();
            assertThat(correct("$\\frac{1}{2}$", "The answer is \\[\n\\frac{1}{2}\n\\]")).isTrue();
            assertThat(correct("$\\frac{1}{2}$", "The answer is 1/2")).isTrue();
        }
    }

    @Nested
    class Percent {
        /** 25\% is 0.25 and 1/4, not 25. */
        @Test
        void aPercentIsAHundredthAsMathVerifyReadsIt() {
            assertThat(correct("$25\\%$", "The answer is $0.25$.")).isTrue();
            assertThat(correct("$25\\%$", "The answer is $25$.")).isFalse();
            assertThat(correct("$25\\%$", "The answer is $\\frac{1}{4}$.")).isTrue();
        }

        /** "25%" in prose is 0.25, and also 25: the extracted texts are both "25". */
        @Test
        void aPlainPercentAlsoMatchesItsNumberAsText() {
            assertThat(correct("$0.25$", "The answer is 25%.")).isTrue();
            assertThat(correct("$25$", "The answer is 25%.")).isTrue();
        }
    }
}
