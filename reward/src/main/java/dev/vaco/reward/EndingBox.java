package dev.vaco.reward;

import java.util.List;

/**
 * Strict mode's common case decided without the candidate search of {@link PriorityExtractor#searchBoxed}: a text
 * that ends with its box, bare ({@code ... \boxed{5}.}) or as the only box of a closing inline span
 * ({@code ... $x = \boxed{5}$.}). The search would build every candidate of the first two tiers and take the one
 * ending last; here the shape shows which one that is.
 *
 * <p>Why the shapes decide (L is the last '}', "the tail" the text after it, or after the '$' that follows it):
 * <ul>
 *   <li>Without "I hope" the first tier is empty, and without "####" the box tier has no hashes candidate.</li>
 *   <li>A math span ends after a closer ({@code $}, {@code $$}, {@code \]}, {@code \)}, {@code "] "}) plus spaces and
 *       a percent word, or, for a bare fraction, at its own '}'. A tail without '$', '\' and ']' holds no closer, no
 *       closer ends on the '}' at L, and a fraction cannot end at the box's closing brace (its last '{' would be
 *       unclosed inside the box); spaces and percent words do not cross a '}'. So every span ends before L.</li>
 *   <li>A plain number or arithmetic ends in a digit, an operator or one of {@code .,:)$} or a space, never in '}',
 *       and cannot hold one: ending after L, it lies in the tail, which has no digit.</li>
 *   <li>Bare box: the box run ends at L + 1 and so comes first. Box in a span: the span from the last '$' before the
 *       only box to the '$' after L is the only one holding a box when nothing between those two dollars closes a
 *       span (no unescaped '$', no "$$", no {@code \)}, no line break, no ']' when a '[' comes before the box); it ends after L + 1, and every other
 *       candidate that ends as late is the same span after an answer phrase: the same answer, unless a list joiner
 *       ("," "and" "or") before it lets such a phrase's group take in a span before it too.</li>
 * </ul>
 * EndingBoxTest holds the answers here to the search's on generated texts.
 */
final class EndingBox {
    private EndingBox() {
    }

    /** The strict answer, or null when the text has neither shape (the search decides then). */
    static AnswerExtractor.Extracted answer(String t) {
        int close = t.lastIndexOf('}');
        if (close < 0 || t.contains("I hope") || t.contains("####")) {
            return null;
        }
        PriorityExtractor.Candidate c;
        if (quietFrom(t, close + 1)) {
            c = bareBox(t, close);
        } else if (close + 1 < t.length() && t.charAt(close + 1) == '$' && quietFrom(t, close + 2)) {
            c = boxInSpan(t, close);
        } else {
            return null;
        }
        // a blank answer, or a span whose box never closes (not BOXED), goes the search's other ways
        return c == null || c.answer().isBlank() || c.method() != AnswerExtractor.Method.BOXED ? null
                : new AnswerExtractor.Extracted(c.answer(), c.method(), c.text());
    }

    /** The last box closes at L with a brace: the box run is the answer. */
    private static PriorityExtractor.Candidate bareBox(String t, int close) {
        List<AnswerExtractor.Span> boxes = AnswerExtractor.boxes(t);
        if (boxes.isEmpty()) {
            return null;
        }
        AnswerExtractor.Span last = boxes.get(boxes.size() - 1);
        // written with braces: "\boxed{5}" and not "\boxed 5}", whose content would end at the same '}'
        boolean braced = last.end() == close + 1 && t.charAt(close - last.content().length() - 1) == '{';
        return braced ? BoxRun.last(t, boxes).orElse(null) : null;
    }

    /** The only box, inside "$...$" ending right after L: that span's group is the answer. */
    private static PriorityExtractor.Candidate boxInSpan(String t, int close) {
        int box = t.indexOf("\\boxed{");
        if (box < 0 || t.indexOf("\\boxed{", box + 1) >= 0 || box > close) {
            return null;
        }
        int open = t.lastIndexOf('$', box);
        if (open < 0 || open > 0 && (t.charAt(open - 1) == '\\' || Character.isDigit(t.charAt(open - 1)))) {
            return null;
        }
        // a ']' closes a span only after a '[' (" [..] ", "\\[..\\]"): "(3, 4]" is an interval when none comes before the box
        int bracket = t.indexOf('[');
        boolean bracketOpens = bracket >= 0 && bracket < box;
        for (int k = open + 1; k <= close; k++) {
            char ch = t.charAt(k);
            // an unescaped '$' (which includes the second of any "$$"), a bracket span's or \] closer, \), a line break
            boolean closes = ch == '$' && t.charAt(k - 1) != '\\' || ch == ']' && bracketOpens || ch == '\n'
                    || ch == ')' && t.charAt(k - 1) == '\\';
            if (closes) {
                return null;
            }
        }
        if (joinable(t, open)) {
            return null;
        }
        MathSpans.Group g = MathSpans.at(t, open, true);
        return g == null ? null : PriorityExtractor.fromGroup(g, g.start(), PriorityExtractor.BOX_TIER);
    }

    /**
     * Whether the text before {@code open} could join a span ending there to this one as a list ("$a$, $b$"): an
     * answer phrase's span would then end where this one does and hold both answers.
     */
    private static boolean joinable(String t, int open) {
        int q = open;
        while (q > 0 && MathSpans.isRegexSpace(t.charAt(q - 1))) {
            q--;
        }
        return t.startsWith(",", q - 1) || t.startsWith("and", q - 3) || t.startsWith("or", q - 2);
    }

    /** No span closer and no digit from {@code from} on. */
    private static boolean quietFrom(String t, int from) {
        for (int k = from; k < t.length(); k++) {
            char ch = t.charAt(k);
            if (ch == '$' || ch == '\\' || ch == ']' || Character.isDigit(ch)) {
                return false;
            }
        }
        return true;
    }
}
