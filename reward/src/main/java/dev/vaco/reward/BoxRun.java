package dev.vaco.reward;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The boxed answer of a text by Math-Verify's rule: the last \boxed, plus each box before it (walking left) while the
 * text between the two is under 10 characters, or under 70 characters, contains "and", "or", "," or ";" and the
 * earlier box says something else. The boxes taken form one list: "\boxed{1} and \boxed{2}" is {1, 2}, and so is
 * "\boxed{11}, no wait: \boxed{2}" (a correction written next to the first box is a second answer, not a retraction).
 */
final class BoxRun {
    private static final int NEAR = 10;
    private static final int JOINABLE = 70;
    /** Substrings, as upstream matches them: "or" inside "for" counts. */
    private static final Pattern SEPARATOR = Pattern.compile("and|or|,|;");

    private BoxRun() {
    }

    /** {start, end} of the run's match (first box to last closing brace), or null when there is none. */
    static int[] bounds(String t) {
        // upstream's pattern names \boxed only; \fbox counts here too, as in strict mode, so strict never finds more
        int first = firstOf(t.indexOf("\\boxed{"), t.indexOf("\\fbox{"));
        int close = t.lastIndexOf('}');
        return first < 0 || close < first ? null : new int[] {first, close + 1};
    }

    static Optional<PriorityExtractor.Candidate> last(String t) {
        return last(t, AnswerExtractor.boxes(t));
    }

    /** @param all the text's boxes, {@link AnswerExtractor#boxes} */
    static Optional<PriorityExtractor.Candidate> last(String t, List<AnswerExtractor.Span> all) {
        int[] range = bounds(t);
        if (range == null) {
            return Optional.empty();
        }
        int first = range[0];
        int close = range[1] - 1;
        List<AnswerExtractor.Span> boxes = new ArrayList<>();
        for (AnswerExtractor.Span b : all) {
            if (b.start() >= first && b.end() <= close + 1 && t.charAt(b.end() - 1) == '}') {
                boxes.add(b);
            }
        }
        if (boxes.isEmpty()) {
            return Optional.empty();
        }
        List<String> taken = new ArrayList<>();
        AnswerExtractor.Span later = boxes.get(boxes.size() - 1);
        taken.add(later.content().trim());
        for (int k = boxes.size() - 2; k >= 0; k--) {
            AnswerExtractor.Span b = boxes.get(k);
            String between = t.substring(b.end(), later.start());
            String content = b.content().trim();
            boolean near = between.length() < NEAR;
            boolean joined = !content.equals(taken.get(taken.size() - 1)) && between.length() < JOINABLE
                    && SEPARATOR.matcher(between).find();
            if (!near && !joined) {
                break;
            }
            taken.add(content);
            later = b;
        }
        Collections.reverse(taken);
        String joined = UnitSuffix.keepUnits(UnitSuffix.strip(String.join(", ", taken))).trim();
        return Optional.of(new PriorityExtractor.Candidate(first, close + 1, joined, AnswerExtractor.Method.BOXED));
    }

    private static int firstOf(int a, int b) {
        return a < 0 ? b : b < 0 ? a : Math.min(a, b);
    }
}
