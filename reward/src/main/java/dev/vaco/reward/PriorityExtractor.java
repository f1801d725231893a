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

    // ---- plain numbers and arithmetic (written from Math-Verify's documented patterns) ----

    private static final String CURRENCY = "[$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿]";
    private static final String NUMBER = "(?<!\\d)(?:(?<i1>-?[1-9]\\d{0,2}(?:[ ,]\\d{3})+)(?<d1>\\.\\d+)?|(?<i2>-?\\d+)(?<d2>[.,]\\d+)"
            + "|(?<d3>\\.\\d+)|(?<i3>-?\\d+))(?<pc>\\s*(?:%|[Pp]ercent|\\s*[Pp]ercentage|\\s*[Pp]ct))?";
    private static final String OPS = "+\\-*×/^()÷";
    private static final String EXPR_CHARS = "[\\d.\\s" + OPS + "]";
    /**
     * Upstream's runs are unbounded; bounded here so that a long run of digits and spaces without an operator costs
     * O(n) per start instead of O(n) per start per backtrack (a 10k-character "1 1 1 ..." took 1.5 s unbounded).
     */
    private static final String EXPR = "(?<ex>-?\\(?-?\\d" + EXPR_CHARS + "{0,100}[" + OPS + "]" + EXPR_CHARS + "{1,100}\\)?)";
    private static final String PREFIX = "(?:^|\\s|=)(?:\\*\\*)?";
    private static final String EXPR_ANCHORED = "(?:" + PREFIX + EXPR + "(?:\\*\\*)?(?:\\.|,|:|\\s|\\)|\\$|$))";
    private static final String NUMBER_ANCHORED = "(?:" + PREFIX + CURRENCY + "?" + NUMBER + ")";
    private static final String EXPR_OR_NUMBER = "(?:" + EXPR_ANCHORED + "|" + NUMBER_ANCHORED + ")";

    /** Per tier, the plain-number patterns; the math spans of each tier are found by {@link #spanCandidates}. */
    private static final List<List<Pattern>> EXPR_TIERS = List.of(
            List.of(Pattern.compile("(?i:final answer is):?\\s*" + EXPR_OR_NUMBER + "\\.?\\s?I hope")),
            List.of(Pattern.compile("(?i:final answer.{0,100}?)\\s+is:?" + EXPR_OR_NUMBER)),
            List.of(Pattern.compile("(?i:answer):(?:.{0,100}=\\s*|.{0,50}?)" + EXPR_OR_NUMBER + "(?!\\s*=)")),
            List.of(Pattern.compile("(?i:answer)(?:.{0,100}=\\s*|.{0,50}?)" + EXPR_OR_NUMBER + "(?!\\s*=)")),
            List.of(Pattern.compile(EXPR_ANCHORED), Pattern.compile(NUMBER_ANCHORED)));
    private static final int TIERS = EXPR_TIERS.size();
    /** The tier the last \\boxed and "####" belong to. */
    static final int BOX_TIER = 1;
    private static final Pattern HASHES = Pattern.compile("####\\s*([^\\n]+)");
    private static final Pattern FINAL_ANSWER_IS = Pattern.compile("(?i:final answer is):?");
    private static final Pattern FINAL_ANSWER = Pattern.compile("(?i:final answer)");
    private static final Pattern IS = Pattern.compile("\\s+is:?");
    private static final Pattern I_HOPE = Pattern.compile("\\.?\\s?I hope");
    private static final Pattern ANSWER_COLON = Pattern.compile("(?i:answer):");
    private static final Pattern ANSWER = Pattern.compile("(?i:answer)");

    /**
     * @param plainNumbers whether plain numbers and arithmetic count (Math-Verify's ExprExtractionConfig); without it
     *                     only math spans and boxes do
     */
    static Optional<AnswerExtractor.Extracted> extract(String t, boolean plainNumbers, Predicate<String> parses) {
        return extract(t, plainNumbers, parses, TIERS);
    }

    /**
     * Strict mode's answer: the lenient one when it is a box. Only the first two tiers can make a box win (the box
     * tier is the second), so those decide: a parsed candidate of the first tier wins; else the first candidate of
     * the box tier is taken when it is a box, without a parse check here: the comparison parses it anyway (an
     * unparseable box is an UNPARSEABLE verdict, as strict mode always gave) and the RL path stays as cheap as a
     * box search. Any other case goes through the full lenient search.
     */
    static Optional<AnswerExtractor.Extracted> extractBoxed(String t, boolean plainNumbers, Predicate<String> parses) {
        AnswerExtractor.Extracted ending = EndingBox.answer(t);
        return ending != null ? Optional.of(ending) : searchBoxed(t, plainNumbers, parses);
    }

    /** {@link #extractBoxed} by the search alone: {@link EndingBox}'s oracle. */
    static Optional<AnswerExtractor.Extracted> searchBoxed(String t, boolean plainNumbers, Predicate<String> parses) {
        if (!containsIgnoreCase(t, "final answer") && t.indexOf("####") < 0) {
            return lastBox(t);
        }
        for (Candidate c : candidates(t, 0, plainNumbers)) {
            if (!c.answer().isBlank() && parses.test(c.answer())) {
                return Optional.of(c).filter(x -> x.method() == AnswerExtractor.Method.BOXED)
                        .map(x -> new AnswerExtractor.Extracted(x.answer(), x.method(), x.text()));
            }
        }
        List<Candidate> boxTier = candidates(t, BOX_TIER, plainNumbers);
        if (!boxTier.isEmpty() && boxTier.get(0).method() == AnswerExtractor.Method.BOXED && !boxTier.get(0).answer().isBlank()) {
            Candidate c = boxTier.get(0);
            return Optional.of(new AnswerExtractor.Extracted(c.answer(), c.method(), c.text()));
        }
        return extract(t, plainNumbers, parses, TIERS).filter(x -> x.method() == AnswerExtractor.Method.BOXED);
    }

    /**
     * Without "final answer" and "####" the first tier is empty and the box tier holds only boxes: the box run and
     * the math spans holding a box. The one ending last wins (the earlier start on a tie), and only it is built.
     */
    private static Optional<AnswerExtractor.Extracted> lastBox(String t) {
        if (!t.contains("\\boxed") && !t.contains("\\fbox")) {
            return Optional.empty();
        }
        MathSpans.Group best = null;
        for (MathSpans.Group g : t.contains("\\boxed") ? MathSpans.all(t, true) : List.<MathSpans.Group>of()) {
            if (best == null || g.end() > best.end()) {
                best = g;
            }
        }
        int[] run = BoxRun.bounds(t);
        Candidate c;
        if (best != null && (run == null || best.end() > run[1] || best.end() == run[1] && best.start() < run[0])) {
            c = fromGroup(best, best.start(), BOX_TIER);
        } else {
            c = BoxRun.last(t).orElse(null);
        }
        return c == null || c.answer().isBlank() ? Optional.empty()
                : Optional.of(new AnswerExtractor.Extracted(c.answer(), c.method(), c.text()));
    }

    private static Optional<AnswerExtractor.Extracted> extract(String t, boolean plainNumbers, Predicate<String> parses, int tiers) {
        Candidate fallback = null;
        for (int tier = 0; tier < tiers; tier++) {
            for (Candidate c : candidates(t, tier, plainNumbers)) {
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
     * of its own: where the span does not parse here ({@code \\sum_{k=0}}) its digits are not the answer either.
     */
    private static List<Candidate> candidates(String t, int tier, boolean plainNumbers) {
        if (tier == 0 && !t.contains("I hope")) {
            // the first tier's line ends with "I hope"
            return new ArrayList<>();
        }
        // the anchored tiers need their anchor word; most texts lack "final answer", many lack "answer" altogether
        boolean anchorAbsent = tier < TIERS - 1 && !containsIgnoreCase(t, tier <= BOX_TIER ? "final answer" : "answer");
        List<Candidate> spans = anchorAbsent && tier != BOX_TIER ? new ArrayList<>() : spanCandidates(t, tier, anchorAbsent);
        List<Candidate> exprs = new ArrayList<>();
        if (plainNumbers && !anchorAbsent) {
            for (Pattern p : EXPR_TIERS.get(tier)) {
                Matcher m = p.matcher(t);
                while (m.find()) {
                    Candidate c = fromExpr(m, tier);
                    if (c != null) {
                        exprs.add(c);
                    }
                }
            }
        }
        if (tier == BOX_TIER) {
            BoxRun.last(t).ifPresent(spans::add);
            hashes(t).ifPresent(spans::add);
        }
        List<Candidate> cands = new ArrayList<>(spans);
        boolean bare = tier == TIERS - 1;
        for (Candidate e : exprs) {
            if (!bare || spans.stream().noneMatch(s -> s.start() <= e.start() && e.end() <= s.end())) {
                cands.add(e);
            }
        }
        cands.sort(Comparator.comparingInt(Candidate::end).reversed().thenComparingInt(Candidate::start));
        return cands;
    }

    /** The math-span candidates of a tier: after its anchor, or anywhere in the last tier. */
    private static List<Candidate> spanCandidates(String t, int tier, boolean anchorAbsent) {
        List<Candidate> out = new ArrayList<>();
        if (tier == BOX_TIER && anchorAbsent) {
            if (t.contains("\\boxed")) {
                for (MathSpans.Group g : MathSpans.all(t, true)) {
                    out.add(fromGroup(g, g.start(), tier));
                }
            }
            return out;
        }
        switch (tier) {
            case 0 -> anchored(t, FINAL_ANSWER_IS, tier, out, (from) -> {
                MathSpans.Group g = MathSpans.atAfterSpaces(t, from, false);
                return g != null && I_HOPE.matcher(t).region(g.end(), t.length()).lookingAt() ? g : null;
            });
            case 1 -> {
                Matcher is = IS.matcher(t);
                anchored(t, FINAL_ANSWER, tier, out, (from) -> {
                    for (int q = from; q < Math.min(t.length(), from + 101); q++) {
                        if (!Character.isWhitespace(t.charAt(q))) {
                            continue;
                        }
                        if (is.region(q, t.length()).lookingAt()) {
                            MathSpans.Group g = MathSpans.atAfterSpaces(t, is.end(), false);
                            if (g != null) {
                                return g;
                            }
                        }
                    }
                    return null;
                });
                for (MathSpans.Group g : t.contains("\\boxed") ? MathSpans.all(t, true) : List.<MathSpans.Group>of()) {
                    out.add(fromGroup(g, g.start(), tier));
                }
            }
            case 2 -> anchored(t, ANSWER_COLON, tier, out, (from) -> MathSpans.within(t, from, 50, false));
            case 3 -> anchored(t, ANSWER, tier, out, (from) -> MathSpans.within(t, from, 50, false));
            default -> {
                for (MathSpans.Group g : MathSpans.all(t, false)) {
                    out.add(fromGroup(g, g.start(), tier));
                }
            }
        }
        return out;
    }

    /** Each anchor occurrence, left to right; after a group is found the search goes on where it ends. */
    private static void anchored(String t, Pattern anchor, int tier, List<Candidate> out,
                                 java.util.function.IntFunction<MathSpans.Group> after) {
        Matcher m = anchor.matcher(t);
        int from = 0;
        while (from <= t.length() && m.find(from)) {
            MathSpans.Group g = after.apply(m.end());
            if (g == null) {
                from = m.start() + 1;
            } else {
                out.add(fromGroup(g, m.start(), tier));
                from = Math.max(g.end(), m.start() + 1);
            }
        }
    }

    /** {@code word} in lower case; a scan for its first letter, not a regex (this runs on every output). */
    private static boolean containsIgnoreCase(String t, String word) {
        char first = word.charAt(0);
        for (int i = 0; i + word.length() <= t.length(); i++) {
            if ((t.charAt(i) | 0x20) == first && t.regionMatches(true, i, word, 0, word.length())) {
                return true;
            }
        }
        return false;
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


    /** The spans of a group joined into one list; a span with boxes keeps only the boxes' contents. */
    static Candidate fromGroup(MathSpans.Group g, int start, int tier) {
        List<String> parts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        boolean boxed = false;
        for (int k = 0; k < g.contents().size(); k++) {
            String content = g.contents().get(k);
            List<AnswerExtractor.Span> boxes = AnswerExtractor.boxes(content);
            boxed |= !boxes.isEmpty();
            if (boxes.size() == 1) {
                content = boxes.get(0).content().trim();
            } else if (!boxes.isEmpty()) {
                content = String.join(", ", boxes.stream().map(b -> b.content().trim()).toList());
            }
            content = UnitSuffix.keepUnits(UnitSuffix.strip(content.replace('\n', ' '))).trim();
            parts.add(g.percent().get(k) ? "(" + content + ")\\%" : content);
            texts.add(content);
        }
        AnswerExtractor.Method how = boxed ? AnswerExtractor.Method.BOXED : method(tier, AnswerExtractor.Method.LATEX_SPAN);
        // one span (the usual box) needs no join
        return parts.size() == 1 ? new Candidate(start, g.end(), parts.get(0), how, texts.get(0))
                : new Candidate(start, g.end(), String.join(", ", parts), how, String.join(" and ", texts));
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
            i = negative ? i.substring(1) : i;
            int zeros = 0;
            while (zeros < i.length() && i.charAt(zeros) == '0') {
                zeros++;
            }
            i = i.substring(zeros);
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
