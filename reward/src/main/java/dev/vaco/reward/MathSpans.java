package dev.vaco.reward;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Math spans as Math-Verify's LaTeX patterns find them, scanned by hand: Java's regex engine matches a repeated
 * alternation by recursion, and a span of a few thousand characters would overflow the stack.
 *
 * <p>A span is {@code $$..$$}, {@code \[..\]}, {@code $..$} (one line, not after a digit or a backslash),
 * {@code \(..\)} (one line), {@code " [..] "} (spaces around, one line, no inner bracket) or, outside boxes, a bare
 * {@code \frac{a}{b}} of two numbers; each closes at the first closer that is not escaped, and may be followed by a
 * percent sign or word. Up to six spans joined by ",", "and", "or" form one group: a list of answers.
 */
final class MathSpans {
    private MathSpans() {
    }

    static final int MAX_JOINED = 6;

    /** One group: where it starts and ends (trailing spaces included, as upstream's pattern consumes them). */
    record Group(int start, int end, List<String> contents, List<Boolean> percent, boolean boxed) {
    }

    private record Span(int end, String content, boolean percent) {
    }

    private static final Pattern FRACTION = Pattern.compile("-?\\\\frac\\{-?\\d+(?:[.,]\\d+)?\\}\\{-?\\d+(?:[.,]\\d+)?\\}");

    /** Every group, left to right without overlap, as a regex search for the group pattern would find them. */
    static List<Group> all(String t, boolean boxedOnly) {
        List<Group> out = new ArrayList<>();
        // a box-holding span has its box after its opener, so none opens at or after the last box
        int stop = boxedOnly ? t.lastIndexOf("\\boxed{") : t.length();
        int i = 0;
        while (i < stop) {
            Group g = at(t, i, boxedOnly);
            if (g == null) {
                i++;
            } else {
                out.add(g);
                i = Math.max(g.end(), i + 1);
            }
        }
        return out;
    }

    /** The first group starting within {@code window} characters of {@code from} (a lazy ".{0,window}?"). */
    static Group within(String t, int from, int window, boolean boxedOnly) {
        for (int i = from; i <= Math.min(t.length() - 1, from + window); i++) {
            Group g = at(t, i, boxedOnly);
            if (g != null) {
                return g;
            }
        }
        return null;
    }

    /** A group starting exactly at i; after greedy spaces, one space may be given back to a " [..] " span. */
    static Group atAfterSpaces(String t, int i, boolean boxedOnly) {
        int j = i;
        while (j < t.length() && Character.isWhitespace(t.charAt(j))) {
            j++;
        }
        Group g = at(t, j, boxedOnly);
        return g == null && j > i ? at(t, j - 1, boxedOnly) : g;
    }

    static Group at(String t, int i, boolean boxedOnly) {
        if (i >= t.length()) {
            return null;
        }
        char c = t.charAt(i);
        boolean opens = c == '$' || c == '\\'
                || Character.isWhitespace(c) && i + 1 < t.length() && t.charAt(i + 1) == '['
                || c == '-' && !boxedOnly && t.startsWith("-\\frac", i);
        if (!opens) {
            return null;
        }
        Span first = span(t, i, boxedOnly);
        if (first == null) {
            return null;
        }
        List<String> contents = new ArrayList<>();
        List<Boolean> percent = new ArrayList<>();
        contents.add(first.content());
        percent.add(first.percent());
        int end = first.end();
        int p;
        while (contents.size() < MAX_JOINED && (p = joinEnd(t, end)) >= 0) {
            Span next = span(t, p, boxedOnly);
            if (next == null && p > end && Character.isWhitespace(t.charAt(p - 1))) {
                next = span(t, p - 1, boxedOnly);
            }
            if (next == null) {
                break;
            }
            contents.add(next.content());
            percent.add(next.percent());
            end = next.end();
        }
        return new Group(i, end, contents, percent, boxedOnly);
    }

    /** The first alternative that matches at i, in upstream's order. */
    private static Span span(String t, int i, boolean boxedOnly) {
        if (i >= t.length()) {
            return null;
        }
        int[] c = display(t, i, "$$", "$$");
        c = c != null ? c : display(t, i, "\\[", "\\]");
        c = c != null ? c : inlineDollar(t, i);
        c = c != null ? c : inlineParen(t, i);
        c = c != null ? c : inlineBracket(t, i);
        if (c == null && !boxedOnly && (t.startsWith("\\frac", i) || t.startsWith("-\\frac", i))) {
            Matcher m = FRACTION.matcher(t).region(i, t.length());
            if (m.lookingAt()) {
                c = new int[] {i, m.end(), m.end()};
            }
        }
        if (c == null) {
            return null;
        }
        if (boxedOnly && !holdsBox(t, c[0], c[1])) {
            return null;
        }
        int end = c[2];
        while (end < t.length() && Character.isWhitespace(t.charAt(end))) {
            end++;
        }
        int pct = percentEnd(t, end);
        return new Span(pct >= 0 ? pct : end, t.substring(c[0], c[1]), pct >= 0);
    }

    /** Whether t[from, to) holds "\\boxed{" and, from the second character after it, a "}". */
    private static boolean holdsBox(String t, int from, int to) {
        int b = t.indexOf("\\boxed{", from);
        if (b < 0 || b + 7 > to) {
            return false;
        }
        int close = t.indexOf('}', b + 8);
        return close >= 0 && close < to;
    }

    /**
     * Where {@code \\s*(?:,?and|,?or|,)\\s*} matched at i ends, or -1: the list joiner, scanned by hand because
     * it runs after every span. Regex \\s is [ \\t\\n\\x0B\\f\\r]; no alternative starts with one, so the
     * greedy run of spaces before it is never given back.
     */
    static int joinEnd(String t, int i) {
        int k = skipRegexSpace(t, i);
        if (t.startsWith(",and", k) || t.startsWith(",or", k)) {
            k += t.charAt(k + 1) == 'a' ? 4 : 3;
        } else if (t.startsWith("and", k)) {
            k += 3;
        } else if (t.startsWith("or", k)) {
            k += 2;
        } else if (t.startsWith(",", k)) {
            k += 1;
        } else {
            return -1;
        }
        return skipRegexSpace(t, k);
    }

    /** Where {@code \\\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct} matched at i ends (the first alternative that matches), or -1. */
    static int percentEnd(String t, int i) {
        if (t.startsWith("\\%", i)) {
            return i + 2;
        }
        if (t.startsWith("%", i)) {
            return i + 1;
        }
        if (t.startsWith("ercent", i + 1) && (t.charAt(i) == 'p' || t.charAt(i) == 'P')) {
            return i + 7;
        }
        if (t.startsWith("ct", i + 1) && (t.charAt(i) == 'p' || t.charAt(i) == 'P')) {
            return i + 3;
        }
        return -1;
    }

    private static int skipRegexSpace(String t, int i) {
        while (i < t.length() && isRegexSpace(t.charAt(i))) {
            i++;
        }
        return i;
    }

    static boolean isRegexSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    private static boolean escaped(String t, int i) {
        return i > 0 && t.charAt(i - 1) == '\\';
    }

    /** {content start, content end, span end}, or null. Content is at least one character and holds no closer. */
    private static int[] display(String t, int i, String open, String close) {
        if (!t.startsWith(open, i) || escaped(t, i)) {
            return null;
        }
        int from = i + open.length();
        int k = t.indexOf(close, from + 1);
        if (k < 0 || t.charAt(k - 1) == '\\') {
            return null;
        }
        return new int[] {from, k, k + close.length()};
    }

    private static int[] inlineDollar(String t, int i) {
        if (t.charAt(i) != '$' || i > 0 && (t.charAt(i - 1) == '\\' || Character.isDigit(t.charAt(i - 1)))) {
            return null;
        }
        for (int k = i + 1; k < t.length(); k++) {
            char ch = t.charAt(k);
            if (ch == '\n') {
                return null;
            }
            if (ch == '$' && t.charAt(k - 1) != '\\') {
                return k > i + 1 ? new int[] {i + 1, k, k + 1} : null;
            }
        }
        return null;
    }

    private static int[] inlineParen(String t, int i) {
        if (!t.startsWith("\\(", i) || escaped(t, i)) {
            return null;
        }
        int k = t.indexOf("\\)", i + 3);
        if (k < 0 || t.charAt(k - 1) == '\\' || hasNewline(t, i + 2, k)) {
            return null;
        }
        return new int[] {i + 2, k, k + 2};
    }

    private static boolean hasNewline(String t, int from, int to) {
        for (int k = from; k < to; k++) {
            if (t.charAt(k) == '\n') {
                return true;
            }
        }
        return false;
    }

    private static int[] inlineBracket(String t, int i) {
        if (i + 1 >= t.length() || !Character.isWhitespace(t.charAt(i)) || t.charAt(i + 1) != '[') {
            return null;
        }
        for (int k = i + 2; k < t.length(); k++) {
            char ch = t.charAt(k);
            if (ch == '\n' || ch == '[') {
                return null;
            }
            if (ch == ']') {
                boolean closes = k > i + 2 && k + 1 < t.length() && Character.isWhitespace(t.charAt(k + 1));
                return closes ? new int[] {i + 2, k, k + 2} : null;
            }
        }
        return null;
    }
}
