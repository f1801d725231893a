package dev.vaco.datasets;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Hendrycks MATH and MATH-500 layouts: {@code problem}, {@code solution}, optional {@code answer},
 * {@code level} ({@code 3} or {@code "Level 3"}, normalised to {@code "3"}), {@code subject} (MATH-500)
 * or {@code type} (Hendrycks MATH), and optional {@code unique_id}. When {@code answer} is absent the
 * gold is the content of the solution's last {@code \boxed{...}}.
 */
public final class MathDataset implements RecordAdapter {

    public static final MathDataset INSTANCE = new MathDataset();

    private MathDataset() {
    }

    @Override
    public Problem adapt(RawRecord r, String source) {
        String problem = r.requireString("problem");
        String solution = r.optionalString("solution");
        String gold;
        if (r.has("answer")) {
            gold = FieldMapping.answerText(r, "answer");
        } else {
            if (solution == null) {
                throw r.error("answer", "missing, and there is no 'solution' to take the \\boxed{...} gold from");
            }
            gold = Boxed.lastBoxed(solution);
            if (gold == null) {
                throw r.error("answer", "missing, and 'solution' has no \\boxed{...} with balanced braces");
            }
        }
        String id = r.optionalStringOrInteger("unique_id");
        if (id == null) {
            id = source + "/" + r.index();
        }
        String level = FieldMapping.normaliseLevel(r.optionalStringOrInteger("level"));
        String subject = r.has("subject") ? r.optionalString("subject") : r.optionalString("type");
        return new Problem(id, problem, gold, solution, source, level, subject);
    }

    @Override
    public Set<String> columns() {
        return new LinkedHashSet<>(java.util.List.of("problem", "solution", "answer", "level", "subject", "type",
                "unique_id"));
    }
}
