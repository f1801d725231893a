package dev.vaco.reward;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lenient answer extraction by Math-Verify's rules (its default {@code parse}: LaTeX and plain-expression targets).
 *
 * <p>Candidates come in tiers, tried in order; within a tier every candidate of every pattern is sorted by where
 * it ends (later first, then the longer one), and the first that parses is the answer:
 * <ol>
 *   <li>"final answer is X. I hope" (the MATH few-shot closing line);</li>
 *   <li>the last \boxed (with the boxes before it that a connective joins, see {@link BoxRun}), a math span holding
 *       a box, "final answer ... is X", and GSM8K's "#### X";</li>
 *   <li>"answer:" then, within 50 characters, X; or the value after the last "=" within 100 characters;</li>
 *   <li>the same after "answer" without a colon;</li>
 *   <li>any math span ($..$, $$..$$, \(..\), \[..\], " [..] ", a bare \frac{a}{b}) or any plain number or
 *       arithmetic expression.</li>
 * </ol>
 * The anchored tiers take the FIRST value after the anchor ("the answer is 4, not 5" is 4) while the last tier takes
 * the last value in the text. X is a math span (up to six, joined by ",", "and", "or": a list), or a plain number
 * ("1,234" is 1234, "9,7" is 9.7, "25%" a percent) or plain arithmetic ("3 * 4 + 1").
 */
final class PriorityExtractor {
    private PriorityExtractor() {
    }

    record Candidate(int start, int end, String answer, AnswerExtractor.Method method, String text) {
        Candidate(int start, int end, String answer, AnswerExtractor.Method method) {
            this(start, end, answer, method, answer);
        }
    }

    // ---- the pieces (written from Math-Verify's documented patterns) ----

    private static final String PERCENT_SUFFIX = "(?:\\\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct)";

    /** One math span; k numbers the groups so that six spans can sit in one pattern. */
    private static String span(int k, boolean boxedOnly, boolean withFraction) {
        String dd = "(?:[^$]|\\$(?!\\$))";
        String db = "(?:[^\\\\]|\\\\(?!\\]))";
        String id = "(?:\\\\[$]|[^\\n$])";
        String ip = "(?:[^\\\\\\n]|\\\\(?!\\)))";
        String ib = "[^\\n\\]\\[]";
        String[] body = boxedOnly
                ? new String[] {boxedBody(dd), boxedBody(db), boxedBody(id), boxedBody(ip), boxedBody(ib)}
                : new String[] {dd + "+?", db + "+?", id + "+?", ip + "+?", ib + "+?"};
        StringBuilder b = new StringBuilder("(?:(?:");
        b.append("(?<!\\\\)\\$\\$(?<s").append(k).append("a>").append(body[0]).append(")(?<!\\\\)\\$\\$");
        b.append("|(?<!\\\\)\\\\\\[(?<s").append(k).append("b>").append(body[1]).append(")(?<!\\\\)\\\\\\]");
        b.append("|(?<![\\\\\\d])\\$(?<s").append(k).append("c>").append(body[2]).append(")(?<!\\\\)\\$");
        b.append("|(?<!\\\\)\\\\\\((?<s").append(k).append("d>").append(body[3]).append(")(?<!\\\\)\\\\\\)");
        b.append("|\\s\\[(?<s").append(k).append("e>").append(body[4]).append(")\\]\\s");
        if (withFraction) {
            String n = "-?\\d+(?:[.,]\\d+)?";
            b.append("|(?<s").append(k).append("f>-?\\\\frac\\{").append(n).append("\\}\\{").append(n).append("\\})");
        }
        b.append(")\\s*(?<s").append(k).append("p>").append(PERCENT_SUFFIX).append(")?)");
        return b.toString();
    }

    private static String boxedBody(String c) {
        return c + "*?\\\\boxed\\{" + c + "+?\\}" + c + "*?";
    }

    static final int MAX_SPANS = 6;

    /** A span and up to five more joined by ",", "and", "or". */
    private static String spans(boolean boxedOnly) {
        StringBuilder b = new StringBuilder("(?:").append(span(0, boxedOnly, !boxedOnly));
        for (int k = 1; k < MAX_SPANS; k++) {
            b.append(boxedOnly ? "\\s*" : "").append("(?:\\s*(?:,?and|,?or|,)\\s*").append(span(k, boxedOnly, !boxedOnly)).append(")?");
        }
        return b.append(')').toString();
    }

    private static final String CURRENCY = "[$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿]";
    private static final String NUMBER = "(?<!\\d)(?:(?<i1>-?[1-9]\\d{0,2}(?:[ ,]\\d{3})+)(?<d1>\\.\\d+)?|(?<i2>-?\\d+)(?<d2>[.,]\\d+)"
            + "|(?<d3>\\.\\d+)|(?<i3>-?\\d+))(?<pc>\\s*(?:%|[Pp]ercent|\\s*[Pp]ercentage|\\s*[Pp]ct))?";
    private static final String OPS = "+\\-*×/^()÷";
    private static final String EXPR_CHARS = "[\\d.\\s" + OPS + "]";
    private static final String EXPR = "(?<ex>-?\\(?-?\\d" + EXPR_CHARS + "*[" + OPS + "]" + EXPR_CHARS + "+\\)?)";
    private static final String PREFIX = "(?:^|\\s|=)(?:\\*\\*)?";
    private static final String EXPR_ANCHORED = "(?:" + PREFIX + EXPR + "(?:\\*\\*)?(?:\\.|,|:|\\s|\\)|\\$|$))";
    private static final String NUMBER_ANCHORED = "(?:" + PREFIX + CURRENCY + "?" + NUMBER + ")";
    private static final String EXPR_OR_NUMBER = "(?:" + EXPR_ANCHORED + "|" + NUMBER_ANCHORED + ")";

    private enum Kind { LATEX, BOXED_SPAN, EXPR }

    private record Rule(Pattern pattern, Kind kind) {
    }

    private static Rule latex(String regex) {
        return new Rule(Pattern.compile(regex, Pattern.DOTALL), Kind.LATEX);
    }

    private static Rule expr(String regex) {
        return new Rule(Pattern.compile(regex), Kind.EXPR);
    }

    private static final String SPANS = spans(false);
    private static final List<List<Rule>> TIERS = List.of(
            List.of(latex("(?i:final answer is):?\\s*" + SPANS + "\\.?\\s?I hope"),
                    expr("(?i:final answer is):?\\s*" + EXPR_OR_NUMBER + "\\.?\\s?I hope")),
            List.of(latex("(?i:final answer.{0,100}?)\\s+is:?\\s*" + SPANS),
                    expr("(?i:final answer.{0,100}?)\\s+is:?" + EXPR_OR_NUMBER),
                    new Rule(Pattern.compile(spans(true), Pattern.DOTALL), Kind.BOXED_SPAN)),
            List.of(latex("(?i:answer):.{0,50}?" + SPANS),
                    expr("(?i:answer):(?:.{0,100}=\\s*|.{0,50}?)" + EXPR_OR_NUMBER + "(?!\\s*=)")),
            List.of(latex("(?i:answer).{0,50}?" + SPANS),
                    expr("(?i:answer)(?:.{0,100}=\\s*|.{0,50}?)" + EXPR_OR_NUMBER + "(?!\\s*=)")),
            List.of(latex(SPANS), expr(EXPR_ANCHORED), expr(NUMBER_ANCHORED)));
    /** The tier the last \boxed and "####" belong to. */
    private static final int BOX_TIER = 1;
    private static final Pattern HASHES = Pattern.compile("####\\s*([^\\n]+)");

    /**
     * @param plainNumbers whether plain numbers and arithmetic count (Math-Verify's ExprExtractionConfig); without it
     *                     only math spans and boxes do
     */
    static Optional<AnswerExtractor.Extracted> extract(String t, boolean plainNumbers, Predicate<String> parses) {
        Candidate fallback = null;
        for (int tier = 0; tier < TIERS.size(); tier++) {
            List<Candidate> cands = candidates(t, tier, plainNumbers);
            for (Candidate c : cands) {
                if (fallback == null && !c.answer().isBlank()) {
                    fallback = c;
                }
                if (!c.answer().isBlank() && parses.test(c.answer())) {
                    // upstream compares the text of the first candidate it tried, parsed or not
                    return Optional.of(new AnswerExtractor.Extracted(c.answer(), c.method(), fallback.text()));
                }
            }
        }
        // nothing parses: the first text found still goes to the comparison, which can match it as text ("Even")
        return fallback == null ? Optional.empty()
                : Optional.of(new AnswerExtractor.Extracted(fallback.answer(), fallback.method(), fallback.text()));
    }

    /**
     * One tier's candidates, latest end first. In the last tier a plain number inside a math span is not a candidate
     * of its own: where the span does not parse here ({@code \sum_{k=0}}) its digits are not the answer either.
     */
    private static List<Candidate> candidates(String t, int tier, boolean plainNumbers) {
        List<Candidate> spans = new ArrayList<>();
        List<Candidate> exprs = new ArrayList<>();
        for (Rule r : TIERS.get(tier)) {
            if (r.kind() == Kind.EXPR && !plainNumbers) {
                continue;
            }
            Matcher m = r.pattern().matcher(t);
            while (m.find()) {
                Candidate c = r.kind() == Kind.EXPR ? fromExpr(m, tier) : fromSpans(m, r.kind(), tier);
                if (c != null) {
                    (r.kind() == Kind.EXPR ? exprs : spans).add(c);
                }
            }
        }
        if (tier == BOX_TIER) {
            BoxRun.last(t).ifPresent(spans::add);
            hashes(t).ifPresent(spans::add);
        }
        List<Candidate> cands = new ArrayList<>(spans);
        boolean bare = tier == TIERS.size() - 1;
        for (Candidate e : exprs) {
            if (!bare || spans.stream().noneMatch(s -> s.start() <= e.start() && e.end() <= s.end())) {
                cands.add(e);
            }
        }
        cands.sort(Comparator.comparingInt(Candidate::end).reversed().thenComparingInt(Candidate::start));
        return cands;
    }

    private static Optional<Candidate> hashes(String t) {
        int at = t.lastIndexOf("####");
        if (at < 0) {
            return Optional.empty();
        }
        Matcher m = HASHES.matcher(t);
        return m.find(at) ? Optional.of(new Candidate(m.start(), m.end(), m.group(1).trim(), AnswerExtractor.Method.GSM8K_HASHES))
                : Optional.empty();
    }

    private static AnswerExtractor.Method method(int tier, AnswerExtractor.Method plain) {
        return tier < 4 ? AnswerExtractor.Method.FINAL_ANSWER_PHRASE : plain;
    }

    /** The spans of a match joined into one list; a span with boxes keeps only the boxes' contents. */
    private static Candidate fromSpans(Matcher m, Kind kind, int tier) {
        List<String> parts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        boolean boxed = false;
        for (int k = 0; k < MAX_SPANS; k++) {
            String content = null;
            for (char c : new char[] {'a', 'b', 'c', 'd', 'e', 'f'}) {
                if (kind == Kind.BOXED_SPAN && c == 'f') {
                    continue;
                }
                String g = m.group("s" + k + c);
                if (g != null) {
                    content = g;
                    break;
                }
            }
            if (content == null) {
                continue;
            }
            List<AnswerExtractor.Span> boxes = AnswerExtractor.boxes(content);
            boxed |= !boxes.isEmpty();
            if (!boxes.isEmpty()) {
                content = String.join(", ", boxes.stream().map(b -> b.content().trim()).toList());
            }
            String pct = m.group("s" + k + "p");
            content = UnitSuffix.keepUnits(UnitSuffix.strip(content.replace('\n', ' '))).trim();
            parts.add(pct == null ? content : "(" + content + ")\\%");
            texts.add(content);
        }
        if (parts.isEmpty()) {
            return null;
        }
        AnswerExtractor.Method how = boxed ? AnswerExtractor.Method.BOXED : method(tier, AnswerExtractor.Method.LATEX_SPAN);
        return new Candidate(m.start(), m.end(), String.join(", ", parts), how, String.join(" and ", texts));
    }

    /** A plain number: thousands separators dropped, a decimal comma read as a point, a percent kept as \%. */
    private static Candidate fromExpr(Matcher m, int tier) {
        String integer = firstNonNull(group(m, "i1"), group(m, "i2"), group(m, "i3"));
        String decimal = firstNonNull(group(m, "d1"), group(m, "d2"), group(m, "d3"));
        String answer;
        String text;
        if (integer != null || decimal != null) {
            String i = integer == null ? "" : integer.replace(",", "").replace(" ", "");
            boolean negative = i.startsWith("-");
            i = (negative ? i.substring(1) : i).replaceFirst("^0+", "");
            answer = (negative ? "-" : "") + (i.isEmpty() ? "0" : i) + (decimal == null ? "" : decimal.replace(',', '.'));
            text = answer;
            if (group(m, "pc") != null) {
                answer += "\\%";
            }
        } else {
            String e = group(m, "ex");
            if (e == null) {
                return null;
            }
            text = e;
            answer = e.replace('\n', ' ').replace("×", "*").replace("÷", "/");
        }
        return new Candidate(m.start(), m.end(), answer, method(tier, AnswerExtractor.Method.PLAIN_NUMBER), text);
    }

    private static String group(Matcher m, String name) {
        try {
            return m.group(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @SafeVarargs
    private static <T> T firstNonNull(T... xs) {
        for (T x : xs) {
            if (x != null) {
                return x;
            }
        }
        return null;
    }
}
