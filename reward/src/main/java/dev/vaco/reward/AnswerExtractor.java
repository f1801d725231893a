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
 * <p>Priority (lenient): the later of {last \boxed group, "final answer is ...", GSM8K "#### N"}, then the
 * later of {last LaTeX math span, last plain number}, then the whole text when it is short, else nothing.
 * Strict mode accepts \boxed only: anything else lets a policy collect reward for a number it merely mentioned.
 * Only the tail of the text is searched, so the regex work is bounded whatever the output length.
 */
public final class AnswerExtractor {

    /** How the answer was found; kept in the verdict detail for debugging reward hacking. */
    public enum Method { BOXED, FINAL_ANSWER_PHRASE, GSM8K_HASHES, LATEX_SPAN, PLAIN_NUMBER, WHOLE_TEXT }

    public record Extracted(String answer, Method method) {
    }

    record Span(int start, int end, String content) {
    }

    private static final Pattern PHRASE = Pattern.compile(
            "(?i)(?:final\\s+answer|answer)\\s*(?:is\\b|:|=)\\s*:?\\s*(?:\\\\\\(|\\$|\\\\\\[)?");
    private static final Pattern HASHES = Pattern.compile("####\\s*([^\\n]+)");
    private static final Pattern NUMBER = Pattern.compile(
            "(?<![A-Za-z0-9.\\\\])-?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+|,\\d{1,2}(?![\\d,]))?(?:\\s*/\\s*\\d+(?!\\d)(?!\\.\\d))?|(?<![A-Za-z0-9.\\\\])-?\\.\\d+");
    /** Text allowed between two boxes/spans for them to count as one multi-part answer. */
    private static final Pattern JOINER = Pattern.compile(
            "(?i)(?:\\s|,|;|\\.|\\+|&|\\band\\b|\\bor\\b|\\\\quad|\\\\qquad|\\\\text\\{[^{}]*\\}|\\\\\\(|\\\\\\)|\\\\\\[|\\\\\\]|\\$|\\\\[,;:! ]"
                    + "|[A-Za-z](?:_\\{?\\w+\\}?)?\\s*=)*");
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
        List<Span> boxes = boxes(t);
        Optional<Extracted> boxed = joined(t, boxes).map(a -> new Extracted(a, Method.BOXED));
        if (strict) {
            return boxed;
        }
        int boxPos = boxes.isEmpty() ? -1 : boxes.get(boxes.size() - 1).start();
        Optional<Extracted> marked = markedAnswer(t, boxPos, plainNumbers, parses);
        if (marked.isPresent()) {
            return marked;
        }
        if (boxed.isPresent()) {
            return boxed;
        }
        return unmarkedAnswer(t, plainNumbers, parses);
    }

    /**
     * Tier 1: the later of box / phrase / hashes wins. The GSM8K "####" answer when it follows both the
     * last box (at {@code boxPos}, -1 for none) and the last phrase, else the phrase's answer when the
     * phrase follows the last box; empty otherwise (the caller then falls back to the box).
     */
    private static Optional<Extracted> markedAnswer(String t, int boxPos, boolean plainNumbers, Predicate<String> parses) {
        Optional<Extracted> phrase = Optional.empty();
        int phrasePos = -1;
        Matcher pm = PHRASE.matcher(t);
        while (pm.find()) {
            phrasePos = pm.start();
        }
        if (phrasePos > boxPos) {
            pm = PHRASE.matcher(t);
            pm.find(phrasePos);
            phrase = fromPhrase(t.substring(pm.start()), t.substring(pm.end()), plainNumbers, parses);
        }
        int hashPos = t.lastIndexOf("####");
        if (hashPos > boxPos && hashPos > phrasePos) {
            Matcher hm = HASHES.matcher(t);
            if (hm.find(hashPos)) {
                String a = hm.group(1).trim();
                if (parses.test(a)) {
                    return Optional.of(new Extracted(a, Method.GSM8K_HASHES));
                }
            }
        }
        return phrase;
    }

    /** Tier 2, for text without a marked answer: last math span vs last plain number, the later one wins. */
    private static Optional<Extracted> unmarkedAnswer(String t, boolean plainNumbers, Predicate<String> parses) {
        List<Span> spans = mathSpans(t);
        List<Span> usable = new ArrayList<>(spans.size());
        for (Span s : spans) {
            if (!s.content().isBlank()) {
                usable.add(s);
            }
        }
        Span lastNum = plainNumbers ? lastNumberOutside(t, spans) : null;
        for (int k = usable.size() - 1; k >= 0; k--) {
            Span s = usable.get(k);
            if (lastNum != null && lastNum.start() > s.start()) {
                break;
            }
            if (parses.test(s.content())) {
                Optional<String> j = joined(t, usable.subList(0, k + 1));
                if (j.isPresent()) {
                    return Optional.of(new Extracted(j.get(), Method.LATEX_SPAN));
                }
            }
        }
        if (!usable.isEmpty() && (lastNum == null || lastNum.start() < usable.get(usable.size() - 1).start())) {
            // nothing parses: hand over the last span anyway, the comparison can still match it as text
            Optional<String> j = joined(t, usable);
            if (j.isPresent()) {
                return Optional.of(new Extracted(j.get(), Method.LATEX_SPAN));
            }
        }
        if (plainNumbers) {
            if (spans.isEmpty() && t.length() <= MAX_SHORT_TEXT) {
                String whole = t.trim().matches("-?\\d+,\\d{1,2}") ? t.trim().replace(',', '.') : t.trim();
                if (parses.test(whole)) {
                    return Optional.of(new Extracted(whole, Method.WHOLE_TEXT));
                }
            }
            if (lastNum != null) {
                return Optional.of(new Extracted(decimalComma(lastNum.content()), Method.PLAIN_NUMBER));
            }
        } else if (spans.isEmpty() && t.length() <= MAX_SHORT_TEXT && parses.test(t.trim()) && !t.contains("\n")) {
            return Optional.of(new Extracted(t.trim(), Method.WHOLE_TEXT));
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

    private static Optional<Extracted> fromPhrase(String fromPhrase, String rest, boolean plainNumbers, Predicate<String> parses) {
        // the phrase regex consumed an opening delimiter; put it back so span detection sees a pair
        String head = fromPhrase.substring(0, fromPhrase.length() - rest.length());
        String r = head.endsWith("$") ? "$" + rest : head.endsWith("\\(") ? "\\(" + rest : head.endsWith("\\[") ? "\\[" + rest : rest;
        r = r.substring(0, sentenceEnd(r)).replace("\\\"", "").replace("\"", "").trim();
        List<Span> spans = mathSpans(r);
        int isAt = r.lastIndexOf(" is ");
        if (isAt >= 0 && (spans.isEmpty() || isAt >= spans.get(spans.size() - 1).end() - 1)) {
            String tail = r.substring(isAt + 4).trim();
            if (!tail.isEmpty() && parses.test(tail)) {
                return Optional.of(new Extracted(tail, Method.FINAL_ANSWER_PHRASE));
            }
        }
        if (!spans.isEmpty()) {
            Optional<String> j = joined(r, spans);
            if (j.isPresent() && parses.test(j.get())) {
                return Optional.of(new Extracted(j.get(), Method.FINAL_ANSWER_PHRASE));
            }
        }
        String plain = r.replace("$", "").replace("\\(", "").replace("\\)", "").trim();
        int is = plain.lastIndexOf(" is ");
        String afterIs = is >= 0 ? plain.substring(is + 4).trim() : plain;
        if (afterIs.endsWith(".")) {
            afterIs = afterIs.substring(0, afterIs.length() - 1);
        }
        if (!afterIs.isEmpty() && parses.test(afterIs)) {
            return Optional.of(new Extracted(afterIs, Method.FINAL_ANSWER_PHRASE));
        }
        if (plainNumbers) {
            Span n = lastNumberOutside(plain, List.of());
            if (n != null) {
                return Optional.of(new Extracted(decimalComma(n.content()), Method.FINAL_ANSWER_PHRASE));
            }
        }
        return Optional.empty();
    }

    /** End of the sentence after the phrase: a newline, or a period followed by a space/end outside math. */
    private static int sentenceEnd(String r) {
        boolean inDollar = false;
        for (int i = 0; i < r.length(); i++) {
            char c = r.charAt(i);
            if (c == '$' && (i == 0 || r.charAt(i - 1) != '\\')) {
                inDollar = !inDollar;
            } else if (c == '\n') {
                return i;
            } else if (c == '.' && !inDollar && (i + 1 == r.length() || Character.isWhitespace(r.charAt(i + 1)))) {
                return i;
            }
        }
        return r.length();
    }

    private static String decimalComma(String n) {
        return n.matches("-?\\d+,\\d{1,2}") ? n.replace(',', '.') : n;
    }

    private static Span lastNumberOutside(String t, List<Span> spans) {
        StringBuilder masked = new StringBuilder(t);
        for (Span s : spans) {
            for (int i = s.start(); i < s.end(); i++) {
                masked.setCharAt(i, ' ');
            }
        }
        Matcher m = NUMBER.matcher(masked);
        Span last = null;
        while (m.find()) {
            last = new Span(m.start(), m.end(), m.group());
        }
        return last;
    }

    /** The last span plus the spans before it that are separated only by connectives ("and", ",", \quad). */
    private static Optional<String> joined(String t, List<Span> spans) {
        if (spans.isEmpty()) {
            return Optional.empty();
        }
        int k = spans.size() - 1;
        List<String> parts = new ArrayList<>();
        parts.add(spans.get(k).content().trim());
        while (k > 0 && parts.size() < 1_000) {
            Span prev = spans.get(k - 1);
            String between = t.substring(prev.end(), spans.get(k).start());
            if (between.length() > 200 || !JOINER.matcher(between).matches()) {
                break;
            }
            parts.add(0, prev.content().trim());
            k--;
        }
        return Optional.of(String.join(", ", parts));
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

    /** $$..$$, \[..\], \(..\), and single-line $..$ spans, left to right, without overlap. */
    static List<Span> mathSpans(String t) {
        List<Span> out = new ArrayList<>();
        boolean noMoreDouble = false;
        boolean noMoreBracket = false;
        boolean noMoreParen = false;
        int n = t.length();
        int i = 0;
        while (i < n) {
            char c = t.charAt(i);
            if (c == '$' && i + 1 < n && t.charAt(i + 1) == '$' && !noMoreDouble) {
                int e = t.indexOf("$$", i + 2);
                if (e < 0) {
                    noMoreDouble = true;
                    i++;
                    continue;
                }
                out.add(new Span(i, e + 2, t.substring(i + 2, e)));
                i = e + 2;
            } else if (c == '\\' && i + 1 < n && (t.charAt(i + 1) == '[' || t.charAt(i + 1) == '(')) {
                boolean bracket = t.charAt(i + 1) == '[';
                if (bracket ? noMoreBracket : noMoreParen) {
                    i += 2;
                    continue;
                }
                int e = t.indexOf(bracket ? "\\]" : "\\)", i + 2);
                if (e < 0) {
                    if (bracket) {
                        noMoreBracket = true;
                    } else {
                        noMoreParen = true;
                    }
                    i += 2;
                    continue;
                }
                out.add(new Span(i, e + 2, t.substring(i + 2, e)));
                i = e + 2;
            } else if (c == '\\') {
                i += 2;
            } else if (c == '$') {
                int e = i + 1;
                while (e < n && t.charAt(e) != '$' && t.charAt(e) != '\n') {
                    e += t.charAt(e) == '\\' ? 2 : 1;
                }
                if (e < n && t.charAt(e) == '$') {
                    out.add(new Span(i, e + 1, t.substring(i + 1, e)));
                    i = e + 1;
                } else {
                    i = e;
                }
            } else {
                i++;
            }
        }
        return out;
    }
}
