package dev.vaco.chat;

import static dev.vaco.chat.Methods.arg;

import dev.vaco.chat.Filters.Filter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;

/**
 * Jinja's number filters: {@code int} and {@code float} conversions (with Python's parsing of
 * strings), {@code round} and {@code abs}.
 */
final class NumberFilters {
    private NumberFilters() { }

    static void register(Map<String, Filter> t) {
        t.put("int", (v, a, k) -> {
            Access.defined(v);
            return toInt(v, arg(a, k, 0, "default", 0L), Values.asLong(arg(a, k, 1, "base", 10L)));
        });
        t.put("float", (v, a, k) -> {
            Access.defined(v);
            return toFloat(v, arg(a, k, 0, "default", 0.0));
        });
        t.put("round", (v, a, k) -> round(v, Values.asLong(arg(a, k, 0, "precision", 0L)),
                Values.str(arg(a, k, 1, "method", "common"))));
        t.put("abs", (v, a, k) -> {
            Object n = Access.requireNumber(v, "abs");
            return Values.compare(n, 0L) < 0 ? Access.negate(n) : n;
        });
    }

    private static Object toInt(Object v, Object def, long base) {
        if (Values.isInt(v)) {
            return Values.asLong(v);
        }
        if (v instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? def : (long) (double) d;
        }
        if (v instanceof String s) {
            String t = s.strip().replace("_", "");
            try {
                if (base == 16 && (t.startsWith("0x") || t.startsWith("0X"))) {
                    t = t.substring(2);
                }
                return Long.parseLong(t, (int) base);
            } catch (NumberFormatException e) {
                try {
                    return (long) Double.parseDouble(t);
                } catch (NumberFormatException e2) {
                    return def;
                }
            }
        }
        return def;
    }

    private static Object toFloat(Object v, Object def) {
        if (Values.isNumber(v)) {
            return Values.asDouble(v);
        }
        if (v instanceof String s) {
            try {
                String t = s.strip().toLowerCase(Locale.ROOT);
                return switch (t) {
                    case "inf", "+inf", "infinity" -> Double.POSITIVE_INFINITY;
                    case "-inf", "-infinity" -> Double.NEGATIVE_INFINITY;
                    case "nan" -> Double.NaN;
                    default -> Double.parseDouble(t);
                };
            } catch (NumberFormatException e) {
                return def;
            }
        }
        return def;
    }

    private static Object round(Object v, long precision, String method) {
        Access.requireNumber(v, "round");
        if (Values.isInt(v) && method.equals("common")) {
            return Values.asLong(v); // Python's round(int, n) keeps the int
        }
        double d = Values.asDouble(v);
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return d;
        }
        RoundingMode mode = switch (method) {
            case "common" -> RoundingMode.HALF_EVEN; // Python's round() on the exact binary value
            case "ceil" -> RoundingMode.CEILING;
            case "floor" -> RoundingMode.FLOOR;
            default -> throw new TemplateException("method must be common, ceil or floor");
        };
        double r = new BigDecimal(d).setScale((int) precision, mode).doubleValue();
        return r == 0 ? Math.copySign(0.0, d) : r; // round(-0.4) is -0.0 in Python
    }
}
