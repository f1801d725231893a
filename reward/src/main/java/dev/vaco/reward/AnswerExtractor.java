package dev.vaco.reward;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the answer inside a model output or a reference solution.
 *
 * <p>Lenient: Math-Verify's priority tiers ({@link PriorityExtractor}), then a short text read whole. Strict mode
 * accepts \boxed only: anything else lets a policy collect reward for a number it merely mentioned.
 * Only the tail of the text is searched, so the regex work is bounded whatever the output length.
 */
public final class AnswerExtractor {

    /** How the answer was found; kept in the verdict detail for debugging reward hacking. */
    public enum Method { BOXED, FINAL_ANSWER_PHRASE, GSM8K_HASHES, LATEX_SPAN, PLAIN_NUMBER, WHOLE_TEXT }

    /**
     * @param text the answer as upstream writes it for its string comparison: a plain number without its percent
     *             sign, a span as written (two answers whose texts are equal are equal, "12%" against "12" included)
     */
    public record Extracted(String answer, Method method, String text) {
        public Extracted(String answer, Method method) {
            this(answer, method, answer);
        }
    }

    record Span(int start, int end, String content) {
    }

    private static final int MAX_SHORT_TEXT = 300;

    private AnswerExtractor() {
    }

    /**
     * @param parses whether a candidate is a usable answer (the verifier passes a parse check), so that a
     *               phrase like "Final Answer: Jane started 3 hours ago" falls through to the number
     */
    public static Optional<Extracted> extract(String text, boolean strict, boolean plainNumbers, int tailChars,
                                              Predicate<String> parses) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        String t = text.length() > tailChars ? text.substring(text.length() - tailChars) : text;
        t = LatexCleaner.collapseDoubledBackslashes(t);
        if (strict) {
            // the lenient answer, and only when it is a box: strict mode never accepts what lenient mode rejects
            return PriorityExtractor.extractBoxed(t, plainNumbers, parses);
        }
        Optional<Extracted> found = PriorityExtractor.extract(t, plainNumbers, parses);
        if (found.isPresent()) {
            return found;
        }
        // nothing Math-Verify would extract parses; a short bare answer (a dataset's gold such as "\\sqrt{2}") is read whole
        String whole = t.trim();
        if (whole.length() <= MAX_SHORT_TEXT && !whole.contains("\n") && parses.test(whole)) {
            return Optional.of(new Extracted(whole, Method.WHOLE_TEXT));
        }
        return Optional.empty();
    }

    private static final Pattern CHOICE_PHRASE = Pattern.compile("(?i)answer\\s*(?:is|:)\\s*\\(?([A-E])\\)?\\b");
    private static final Pattern CHOICE = Pattern.compile("(?<![A-Za-z])([A-E])(?![A-Za-z])");

    /** Multiple-choice letter: "the answer is (C)", else the first standalone capital A-E. */
    public static Optional<String> extractChoice(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = CHOICE_PHRASE.matcher(text);
        String found = null;
        while (m.find()) {
            found = m.group(1);
        }
        if (found == null) {
            m = CHOICE.matcher(text);
            if (m.find()) {
                found = m.group(1);
            }
        }
        return Optional.ofNullable(found);
    }

    /** GSM8K reference: the text after "####", thousands commas kept for the parser to remove. */
    public static Optional<String> gsm8kGold(String answerField) {
        int i = answerField.lastIndexOf("####");
        if (i < 0) {
            return Optional.empty();
        }
        String a = answerField.substring(i + 4).trim();
        return a.isEmpty() ? Optional.empty() : Optional.of(a);
    }

    /** MATH reference: the last \boxed in the solution (the dataset's own convention). */
    public static Optional<String> lastBoxed(String solution) {
        List<Span> b = boxes(solution);
        return b.isEmpty() ? Optional.empty() : Optional.of(b.get(b.size() - 1).content());
    }

    /** All \boxed{..} / \fbox{..} / "\boxed 5" in order; brace matching is iterative, unclosed boxes are skipped. */
    static List<Span> boxes(String t) {
        List<Span> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int b = t.indexOf("\\boxed", from);
            int f = t.indexOf("\\fbox", from);
            int i = b < 0 ? f : (f < 0 ? b : Math.min(b, f));
            if (i < 0) {
                return out;
            }
            int j = i + (i == b ? 6 : 5);
            while (j < t.length() && t.charAt(j) == ' ' && (j + 1 < t.length() && t.charAt(j + 1) == '{')) {
                j++;
            }
            if (j < t.length() && t.charAt(j) == '{') {
                int close = matchBrace(t, j);
                if (close < 0) {
                    // an unclosed box swallows everything after it; nothing later can be a box either
                    return out;
                }
                out.add(new Span(i, close + 1, t.substring(j + 1, close)));
                from = close + 1;
            } else if (j < t.length() && t.charAt(j) == ' ') {
                int k = j + 1;
                while (k < t.length() && !Character.isWhitespace(t.charAt(k)) && t.charAt(k) != '$') {
                    k++;
                }
                if (k > j + 1) {
                    out.add(new Span(i, k, t.substring(j + 1, k)));
                }
                from = k;
            } else {
                from = j;
            }
        }
    }

    private static int matchBrace(String t, int open) {
        int depth = 0;
        for (int k = open; k < t.length(); k++) {
            char c = t.charAt(k);
            if (c == '\\') {
                k++;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return k;
            }
        }
        return -1;
    }
}
