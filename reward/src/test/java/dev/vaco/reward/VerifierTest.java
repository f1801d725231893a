package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vaco.reward.Verdict.Status;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VerifierTest extends VerifierFixture {
    static boolean same(String gold, String pred) {
        return v.verifyAnswers(gold, pred).correct();
    }

    @Nested
    class Numbers {
        @ParameterizedTest(name = "{0} == {1}")
        @CsvSource(delimiter = '|', value = {
                "5 | 5.0", "1000 | 1,000", "1450000 | 1,450,000", "-3 | -3", "0.5 | \\frac{1}{2}", "0.5 | \\dfrac12",
                "0.5 | \\tfrac{1}{2}", "1/2 | \\frac{1}{2}", "7/2 | 3\\frac{1}{2}", "0.4 | .4", "14916 | 14{,}916",
                "11111111100 | 11,\\! 111,\\! 111,\\! 100", "-\\frac{10}{9} | -10/9", "\\frac{4}{6} | \\frac{2}{3}"})
        void equal(String gold, String pred) {
            assertThat(same(gold, pred)).isTrue();
        }

        @ParameterizedTest(name = "{0} != {1}")
        @CsvSource(delimiter = '|', value = {"5 | 6", "1/3 | 0.333", "-3 | 3", "32349 | 32, 349", "0.5 | 5"})
        void different(String gold, String pred) {
            assertThat(same(gold, pred)).isFalse();
        }

        @Test
        void scientificNotationInPlainText() {
            assertThat(same("0.0015", "1.5e-3")).isTrue();
            assertThat(same("3000", "3E3")).isTrue();
            assertThat(same("2e", "2e")).isTrue();
            assertThat(same("5.4", "2e")).isFalse();
        }

        @Test
        void floatsGetToleranceOnlyAtTheConfiguredRounding() {
            assertThat(same("\\frac{1}{12}", "0.0833333333333333")).isTrue();
            assertThat(same("\\sqrt{17}", "4.123105625617661")).isTrue();
            assertThat(same("\\frac{1}{12}", "0.0833")).isFalse();
            try (Verifier coarse = new Verifier(VerifierConfig.defaults().withFloatRounding(2))) {
                assertThat(coarse.verifyAnswers("\\frac{1}{3}", "0.33").correct()).isTrue();
            }
        }
    }

    @Nested
    class Cleanup {
        @ParameterizedTest(name = "{0} == {1}")
        @CsvSource(delimiter = '|', value = {
                "\\frac{1}{3} | \\left( \\frac{1}{3} \\right)", "10 | 10\\text{ units}", "15 | 15\\mbox{ cm}^2",
                "90 | 90^\\circ", "90 | 90^{\\circ}", "10 | \\$10", "1000.99 | 1,000.99€", "e | \\mathrm{e}",
                "3 | 3\\,", "(x-2)(x+2) | \\left(x-2\\right)\\left(x+2\\right)", "\\text{Evelyn} | \\text{Evelyn}",
                "\\text{C} | \\text{(C)}", "E | \\text{E}"})
        void equal(String gold, String pred) {
            assertThat(same(gold, pred)).isTrue();
        }
    }

    @Nested
    class Percent {
        @Test
        void defaultConventionReadsPercentAsAFractionLikeMathVerify() {
            assertThat(same("28\\%", "0.28")).isTrue();
            assertThat(same("28\\%", "28 pct")).isTrue();
            assertThat(same("28\\%", "\\frac{7}{25}")).isTrue();
            assertThat(same("28\\%", "28")).isFalse();
            assertThat(same("0.28", "28\\%")).isTrue();
        }

        @Test
        void numberConventionIsTheOtherOption() {
            try (Verifier n = new Verifier(VerifierConfig.defaults().withPercent(PercentConvention.NUMBER))) {
                assertThat(n.verifyAnswers("28\\%", "28").correct()).isTrue();
                assertThat(n.verifyAnswers("28\\%", "0.28").correct()).isFalse();
            }
            try (Verifier e = new Verifier(VerifierConfig.defaults().withPercent(PercentConvention.EITHER))) {
                assertThat(e.verifyAnswers("28\\%", "0.28").correct()).isTrue();
                assertThat(e.verifyAnswers("28\\%", "28").correct()).isTrue();
                assertThat(e.verifyAnswers("28\\%", "2.8").correct()).isFalse();
            }
        }
    }

    @Nested
    class Symbolic {
        @ParameterizedTest(name = "{0} == {1}")
        @CsvSource(delimiter = '|', value = {
                "3\\sqrt{13} | \\sqrt{117}", "\\sqrt{3} | \\sqrt3", "\\frac{9}{4}\\pi | \\frac94\\pi",
                "\\tan^2(y)+1 | \\sec^2(y)", "2 \\sin b \\cos a | 2\\cos a \\sin b", "\\frac{x+2}{7} | \\frac{x}{7}+\\frac{2}{7}",
                "(x + 2)^2 + (y - 3)^2 | x^2 + y^2 + 4x - 6y + 13", "e^{2} | \\exp(2)", "\\ln(e^3) | 3",
                "\\log_2 8 | 3", "2^{10} | 1024", "\\frac{1}{3x^{2/3}} | \\frac{1}{3\\sqrt[3]{x}^2}", "5! | 120",
                "\\binom{5}{2} | 10", "\\sqrt[3]{-8} | -2", "(\\sqrt{x})^2 | x"})
        void equal(String gold, String pred) {
            assertThat(same(gold, pred)).isTrue();
        }

        @ParameterizedTest(name = "{0} != {1}")
        @CsvSource(delimiter = '|', value = {
                "4 | 4\\sqrt{2}", "x+2n+1 | x+1", "(a+5)(b+2) | (+5)(b+2)", "1 - \\frac{1}{e} | 1 + \\frac{1}{e}",
                "2 | \\frac{1+\\sqrt{5}}{2}", "f(x) | f(y)", "\\pi | 3.14", "\\sqrt{x^2} | x", "\\ln(x) | \\ln(-x)"})
        void different(String gold, String pred) {
            assertThat(same(gold, pred)).isFalse();
        }

        @Test
        void absoluteValue() {
            assertThat(same("3", "|-3|")).isTrue();
            assertThat(same("|x|", "\\left|x\\right|")).isTrue();
            assertThat(same("\\sqrt{x^2}", "|x|")).isTrue();
            assertThat(same("|x|", "x")).isFalse();
        }

        @Test
        void variableNamesMatterOnlyInStrictVariablesMode() {
            try (Verifier loose = new Verifier(VerifierConfig.defaults().withStrictVariables(false))) {
                assertThat(loose.verifyAnswers("f(x)", "f(y)").correct()).isTrue();
            }
        }
    }

    @Nested
    class Structures {
        @ParameterizedTest(name = "{0} == {1}")
        @CsvSource(delimiter = '|', value = {
                "(1,\\frac{9}{2}) | (1,4.5)", "\\{1,2,3\\} | \\{3,1,2\\}", "-2, 1 | 1, -2", "1 \\pm \\sqrt{19} | 1+\\sqrt{19}, 1-\\sqrt{19}",
                "\\pm 2021 | \\{-2021, 2021\\}", "[0,1) | [0, 1)", "(1, +\\infty) | (1,\\infty)", "[1,2] \\cup [3,4] | [3,4]\\cup[1,2]", "(2,12) \\cup (12,102) | (2, 12) \\cup (12, 102)",
                "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} | \\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}",
                "x = 3 | 3", "k=1 | 1", "x >= 5 | x \\geq 5", "x \\leq 5 | 5 \\geq x", "x <= 1 | -x >= -1",
                "34x+45y-20z+100=0 | -34x-45y+20z-100=0", "-793 < a < 10 | (-793, 10)", "x \\in [-2,7] | x \\in [-2, 7]",
                "(p,q)=(3,2) | (3,2)", "a_3 = 2, a_{37} = 19 | a_{37} = 19, a_3 = 2"})
        void equal(String gold, String pred) {
            assertThat(same(gold, pred)).isTrue();
        }

        @ParameterizedTest(name = "{0} != {1}")
        @CsvSource(delimiter = '|', value = {
                "(1,2) | (2,1)", "(3,1) | \\{1,3\\}", "[0,1) | (0,1)", "[0,1) | [0,1]", "(0,9) | [0,9)", "x > 5 | x < 5",
                "x < 1 | x > -1", "a + 3z = 0 | 0", "\\{1,2\\} | \\{1,2,3\\}",
                "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} | \\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}",
                "5x - 7y + 11z + 4 = 0 | x + y - z + 2 = 0"})
        void different(String gold, String pred) {
            assertThat(same(gold, pred)).isFalse();
        }

        @Test
        void matricesWrittenSideBySideMultiply() {
            assertThat(same("\\begin{pmatrix}2 & 1 \\\\ 0 & 3\\end{pmatrix}",
                    "\\begin{pmatrix}1 & 1 \\\\ 0 & 1\\end{pmatrix}\\begin{pmatrix}2 & -2 \\\\ 0 & 3\\end{pmatrix}")).isTrue();
            assertThat(same("\\begin{pmatrix}2 \\\\ 4\\end{pmatrix}", "2\\begin{pmatrix}1 \\\\ 2\\end{pmatrix}")).isTrue();
            assertThat(same("\\begin{pmatrix}1 & 1 \\\\ 0 & 1\\end{pmatrix}",
                    "\\begin{pmatrix}1 & 1 \\\\ 0 & 1\\end{pmatrix}\\begin{pmatrix}1 & 1 \\\\ 0 & 1\\end{pmatrix}")).isFalse();
        }

        @Test
        void predictedInequalityMatchesGoldIntervalOnlyWhenAllowed() {
            assertThat(same("-2 \\le x \\le 7", "x \\in [-2,7]")).isTrue();
            assertThat(same("x \\in [-2,7]", "-2 \\le x \\le 7")).isFalse();
            try (Verifier allow = new Verifier(VerifierConfig.defaults().withSetRelationInPred(true))) {
                assertThat(allow.verifyAnswers("x \\in [-2,7]", "-2 \\le x \\le 7").correct()).isTrue();
            }
        }

        @Test
        void orderedListsAreTheHendrycksOption() {
            assertThat(same("10, 4, -2", "4, 10, -2")).isTrue();
            try (Verifier ordered = new Verifier(VerifierConfig.defaults().withOrderedLists(true))) {
                assertThat(ordered.verifyAnswers("10, 4, -2", "4, 10, -2").correct()).isFalse();
                assertThat(ordered.verifyAnswers("10, 4, -2", "10, 4, -2").correct()).isTrue();
            }
        }
    }

    @Nested
    class Verdicts {
        @Test
        void carriesExtractedAnswersAndVersion() {
            Verdict d = v.verify("#### 72", "so she has \\boxed{72} clips");
            assertThat(d.status()).isEqualTo(Status.CORRECT);
            assertThat(d.gold()).isEqualTo("72");
            assertThat(d.pred()).isEqualTo("72");
            assertThat(d.version()).isEqualTo(Verifier.VERSION);
            assertThat(d.reward()).isEqualTo(1.0);
        }

        @Test
        void wrongNoAnswerAndUnparseableAreDistinct() {
            assertThat(v.verifyGold("72", "\\boxed{71}").status()).isEqualTo(Status.WRONG);
            assertThat(v.verifyGold("72", "I do not know").status()).isEqualTo(Status.NO_ANSWER);
            assertThat(v.verifyGold("72", "\\boxed{\\foo{72}}").status()).isEqualTo(Status.UNPARSEABLE);
            assertThat(v.verifyGold("72", "\\boxed{71}").reward()).isZero();
        }

        @Test
        void datasetConventionsForGold() {
            assertThat(v.verifyGsm8k("Natalia sold 48/2 = 24 clips.\n#### 1,024", "\\boxed{1024}").status()).isEqualTo(Status.CORRECT);
            assertThat(v.verifyGsm8k("no marker", "\\boxed{1024}").status()).isEqualTo(Status.UNPARSEABLE);
            assertThat(v.verifyMath(null, "so $\\boxed{\\frac{1}{2}}$", "\\boxed{0.5}").status()).isEqualTo(Status.CORRECT);
            assertThat(v.verifyMath("\\frac{1}{2}", "ignored", "\\boxed{\\tfrac12}").status()).isEqualTo(Status.CORRECT);
            assertThat(v.verifyGold("5", "\\boxed{}").status()).isEqualTo(Status.NO_ANSWER);
        }

        @Test
        void nullsAndBlanksAreVerdictsToo() {
            assertThat(v.verify(null, null).status()).isEqualTo(Status.UNPARSEABLE);
            assertThat(v.verifyGold("5", null).status()).isEqualTo(Status.NO_ANSWER);
            assertThat(v.verifyAnswers(null, "5").status()).isEqualTo(Status.UNPARSEABLE);
            assertThat(v.verifyAnswers("5", " ").status()).isEqualTo(Status.NO_ANSWER);
        }

        @Test
        void strictModeIgnoresUnboxedAnswers() {
            try (Verifier strict = new Verifier(VerifierConfig.strictDefaults())) {
                assertThat(strict.verifyGold("72", "The answer is 72.").status()).isEqualTo(Status.NO_ANSWER);
                assertThat(strict.verifyGold("72", "The answer is \\boxed{72}.").status()).isEqualTo(Status.CORRECT);
            }
            assertThat(v.verifyGold("72", "The answer is 72.").status()).isEqualTo(Status.CORRECT);
        }

        @Test
        void mathGoldFromTheSolutionBox() {
            Verdict d = v.verify("Thus $x = \\boxed{\\frac{\\sqrt{3}}{2}}$.", "I get \\boxed{\\frac{1}{2}\\sqrt{3}}");
            assertThat(d.status()).isEqualTo(Status.CORRECT);
        }

        @Test
        void listingManyCandidatesDoesNotEarnReward() {
            StringBuilder all = new StringBuilder("\\boxed{");
            for (int i = 1; i <= 1000; i++) {
                all.append(i).append(i < 1000 ? ", " : "}");
            }
            assertThat(v.verifyGold("500", all.toString()).status()).isEqualTo(Status.WRONG);
            assertThat(v.verifyGold("500", "\\boxed{499} \\boxed{500}").correct()).isFalse();
        }
    }
}
