package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vaco.reward.AnswerExtractor.Extracted;
import dev.vaco.reward.AnswerExtractor.Method;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AnswerExtractorTest {

    private static Optional<Extracted> lenient(String text) {
        return AnswerExtractor.extract(text, false, true, 10_000, AnswerExtractorTest::parses);
    }

    private static Optional<Extracted> strict(String text) {
        return AnswerExtractor.extract(text, true, true, 10_000, AnswerExtractorTest::parses);
    }

    static boolean parses(String s) {
        try {
            LatexParser.parse(s, false, Deadline.none());
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Test
    void takesTheLastBoxWithBalancedBraces() {
        assertThat(lenient("first \\boxed{1} was a slip. Redoing the sum: \\boxed{\\frac{1}{2}} done").map(Extracted::answer))
                .contains("\\frac{1}{2}");
        assertThat(lenient("so \\boxed{\\{1,2\\}}").map(Extracted::answer)).contains("\\{1,2\\}");
    }

    @Test
    void acceptsFboxAndBoxedWithoutBraces() {
        assertThat(lenient("answer: \\fbox{42}").map(Extracted::answer)).contains("42");
        assertThat(lenient("$\\boxed 5$").map(Extracted::answer)).contains("5");
    }

    @Test
    void joinsBoxesByMathVerifysSeparatorRule() {
        // under 10 characters apart, or under 70 with "and", "or", "," or ";" between: one list of answers
        assertThat(lenient("\\boxed{1} and \\boxed{2}").map(Extracted::answer)).contains("1, 2");
        assertThat(lenient("\\boxed{1} is wrong, I think it is \\boxed{2}").map(Extracted::answer)).contains("1, 2");
        // a correction after a full stop, with no separator, stands alone
        assertThat(lenient("\\boxed{1} is wrong. I think it is \\boxed{2}").map(Extracted::answer)).contains("2");
        // the same value twice far apart is not a list
        assertThat(lenient("\\boxed{2} hence, after checking it twice, \\boxed{2}").map(Extracted::answer)).contains("2");
    }

    @Test
    void readsGsm8kHashes() {
        Optional<Extracted> e = lenient("She pays 3 * 4 = 12 dollars.\n#### 1,450,000");
        assertThat(e.map(Extracted::answer)).contains("1,450,000");
        assertThat(e.map(Extracted::method)).contains(Method.GSM8K_HASHES);
        assertThat(AnswerExtractor.gsm8kGold("blah\n#### 72")).contains("72");
        assertThat(AnswerExtractor.gsm8kGold("no hashes")).isEmpty();
    }

    @Test
    void readsFinalAnswerPhrases() {
        assertThat(lenient("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.").map(Extracted::answer))
                .contains("\\frac{3}{4}");
        assertThat(lenient("Thus the answer is 17.").map(Extracted::answer)).contains("17");
        assertThat(lenient("Final Answer: The largest $n$ is 34.").map(Extracted::answer)).contains("34");
    }

    @Test
    void currencyDollarsAreNotMathSpans() {
        assertThat(lenient("He pays $5 per hour, so in total $40.").map(Extracted::answer)).contains("40");
        assertThat(lenient("**Answer:** 18 dollars").map(Extracted::answer)).contains("18");
        assertThat(lenient("She earns $18.00 every day.").map(Extracted::answer)).contains("18.00");
    }

    @Test
    void laterPhraseBeatsEarlierBox() {
        assertThat(lenient("first \\boxed{255} then. Final Answer: The final answer is $10,455$.").map(Extracted::answer))
                .contains("10,455");
    }

    @Test
    void fallsBackToTheLastNumber() {
        Optional<Extracted> e = lenient("we get 12 apples and then 7 pears");
        assertThat(e.map(Extracted::answer)).contains("7");
        assertThat(e.map(Extracted::method)).contains(Method.PLAIN_NUMBER);
        assertThat(lenient("no digits here at all, just words")).isEmpty();
        assertThat(lenient("AZYUK2A")).isEmpty();
    }

    @Test
    void strictModeAcceptsOnlyBoxes() {
        assertThat(strict("The answer is 5.")).isEmpty();
        assertThat(strict("#### 5")).isEmpty();
        assertThat(strict("so \\boxed{5}").map(Extracted::answer)).contains("5");
    }

    @Test
    void unclosedBoxIsIgnored() {
        assertThat(strict("\\boxed{12")).isEmpty();
        assertThat(lenient("\\boxed{3} and later \\boxed{12").map(Extracted::answer)).contains("3");
    }

    @Test
    void searchesOnlyTheTail() {
        String text = "\\boxed{1}" + "x".repeat(20_000);
        assertThat(AnswerExtractor.extract(text, true, true, 1_000, s -> true)).isEmpty();
        assertThat(AnswerExtractor.extract(text, true, true, 100_000, s -> true).map(Extracted::answer)).contains("1");
    }

    @Test
    void inlineMathMustStayOnOneLine() {
        assertThat(AnswerExtractor.extract("Answer $ \n 9 \n $", false, false, 10_000, AnswerExtractorTest::parses)).isEmpty();
        assertThat(AnswerExtractor.extract("Answer \\[ \n 9 \n \\]", false, false, 10_000, AnswerExtractorTest::parses)
                .map(e -> e.answer().trim())).contains("9");
    }

    @Test
    void mathGoldComesFromTheLastBox() {
        assertThat(AnswerExtractor.lastBoxed("so $x=\\boxed{2}$ and finally $\\boxed{\\frac{\\sqrt{3}}{2}}$"))
                .contains("\\frac{\\sqrt{3}}{2}");
    }

    @Test
    void multipleChoiceLetters() {
        assertThat(AnswerExtractor.extractChoice("The answer is (C).")).contains("C");
        assertThat(AnswerExtractor.extractChoice("Because B is valid")).contains("B");
        assertThat(AnswerExtractor.extractChoice("No valid answer here")).isEmpty();
    }
}
