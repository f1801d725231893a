package dev.vaco.reward;

import java.util.HashMap;
import java.util.Map;

/**
 * One comparison's parses. Extraction parses candidates to check they are answers; the comparison then needs
 * the same trees, so they are kept (failures too) instead of parsing every string twice.
 */
final class ParseCache {
    private final Deadline deadline;
    private final Map<String, Object> number = new HashMap<>();
    private final Map<String, Object> fraction = new HashMap<>();

    ParseCache(Deadline deadline) {
        this.deadline = deadline;
    }

    Deadline deadline() {
        return deadline;
    }

    /** The parse of {@code s}; rethrows the (cached) ParseException / LimitExceededException / ArithmeticException. */
    Expr parse(String s, boolean percentAsFraction) {
        Map<String, Object> m = percentAsFraction ? fraction : number;
        Object r = m.get(s);
        if (r == null) {
            try {
                r = LatexParser.parse(s, percentAsFraction, deadline);
            } catch (DeadlineExceededException e) {
                throw e;
            } catch (ParseException | LimitExceededException | ArithmeticException e) {
                r = e;
            } catch (NumberFormatException e) {
                r = new ParseException("bad number: " + e.getMessage());
            }
            m.put(s, r);
        }
        if (r instanceof RuntimeException e) {
            throw e;
        }
        return (Expr) r;
    }
}
