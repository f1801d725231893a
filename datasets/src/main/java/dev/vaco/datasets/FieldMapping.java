package dev.vaco.datasets;

import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * A generic adapter for layouts with one column per {@link Problem} field. Only {@code question} and
 * {@code answer} are required; the optional column names may be null (not mapped). When the answer
 * column is absent for a record and a solution column is mapped, the gold is the solution's last
 * {@code \boxed{...}} (see {@link Boxed}), as MATH does.
 *
 * <p>Numbers in the answer column (some datasets store {@code 42} rather than {@code "42"}) are accepted
 * and rendered as their decimal text.
 */
public record FieldMapping(String question, String answer, String solution, String id, String level, String subject)
        implements RecordAdapter {

    public FieldMapping {
        Objects.requireNonNull(question, "question column name");
        Objects.requireNonNull(answer, "answer column name");
    }

    /** Just question and answer columns. */
    public static FieldMapping of(String question, String answer) {
        return new FieldMapping(question, answer, null, null, null, null);
    }

    @Override
    public Problem adapt(RawRecord r, String source) {
        String q = r.requireString(question);
        String sol = solution == null ? null : r.optionalString(solution);
        String gold;
        if (r.has(answer) || sol == null) {
            gold = answerText(r, answer);
        } else {
            gold = Boxed.lastBoxed(sol);
            if (gold == null) {
                throw r.error(answer, "missing, and the solution in '" + solution + "' has no \\boxed{...} to take it from");
            }
        }
        String pid = id == null ? null : r.optionalStringOrInteger(id);
        if (pid == null) {
            pid = source + "/" + r.index();
        }
        String lvl = level == null ? null : normaliseLevel(r.optionalStringOrInteger(level));
        String subj = subject == null ? null : r.optionalString(subject);
        return new Problem(pid, q, gold, sol, source, lvl, subj);
    }

    @Override
    public Set<String> columns() {
        Set<String> cols = new LinkedHashSet<>();
        for (String c : new String[] {question, answer, solution, id, level, subject}) {
            if (c != null) {
                cols.add(c);
            }
        }
        return cols;
    }

    static String answerText(RawRecord r, String field) {
        Object v = r.fields().get(field);
        if (v instanceof Long || v instanceof Integer) {
            return v.toString();
        }
        if (v instanceof Double d && d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 1e15) {
            return Long.toString(d.longValue());
        }
        if (v instanceof Number n) {
            return n.toString();
        }
        return r.requireString(field).strip();
    }

    /**
     * Levels are compared across sources, so {@code "Level 3"} (Hendrycks MATH) and {@code 3} (MATH-500)
     * both become {@code "3"}; anything else (e.g. {@code "Level ?"}) is kept verbatim.
     */
    static String normaliseLevel(String raw) {
        if (raw == null) {
            return null;
        }
        String s = raw.strip();
        if (s.regionMatches(true, 0, "Level ", 0, 6)) {
            String rest = s.substring(6).strip();
            if (rest.matches("\\d+")) {
                return rest;
            }
        }
        return s;
    }
}
