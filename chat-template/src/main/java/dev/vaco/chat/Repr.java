package dev.vaco.chat;

import dev.vaco.chat.Values.Callable;
import dev.vaco.chat.Values.Namespace;
import dev.vaco.chat.Values.Tuple;
import dev.vaco.chat.Values.Undefined;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code repr} of template values: what a container prints for its items, and what
 * {@link Values#str} falls back to for anything that is not a string. Floats print as Python
 * prints them (shortest round-trip digits), since templates are compared byte for byte with the
 * output of Jinja under Python.
 */
final class Repr {
    private Repr() { }
    /** Python {@code repr(v)}, used for values nested in printed containers. */
    static String repr(Object v) {
        StringBuilder sb = new StringBuilder();
        repr(v, sb, 0);
        return sb.toString();
    }

    private static void repr(Object v, StringBuilder sb, int depth) {
        if (depth > 200) {
            sb.append("...");
            return;
        }
        if (v == null) {
            sb.append("None");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "True" : "False");
        } else if (v instanceof Double d) {
            sb.append(floatRepr(d));
        } else if (v instanceof String s) {
            quote(s, sb);
        } else if (v instanceof Undefined) {
            sb.append("Undefined");
        } else if (v instanceof Tuple t) {
            sb.append('(');
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                repr(t.get(i), sb, depth + 1);
            }
            sb.append(t.size() == 1 ? ",)" : ")");
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                repr(l.get(i), sb, depth + 1);
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                repr(e.getKey(), sb, depth + 1);
                sb.append(": ");
                repr(e.getValue(), sb, depth + 1);
            }
            sb.append('}');
        } else if (v instanceof Namespace n) {
            sb.append("<Namespace ").append(n.attrs.keySet()).append('>');
        } else if (v instanceof Callable) {
            sb.append("<function>");
        } else {
            sb.append(v);
        }
    }

    private static void quote(String s, StringBuilder sb) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append(q);
    }

    /** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = shortest(Math.abs(d));
        String digits = bd.unscaledValue().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (exp < -4 || exp >= 16) {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) {
                sb.append('.').append(digits, 1, digits.length());
            }
            sb.append('e').append(exp < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exp));
            sb.append(e.length() < 2 ? "0" + e : e);
        } else if (exp < 0) {
            sb.append("0.").append("0".repeat(-exp - 1)).append(digits);
        } else if (digits.length() <= exp + 1) {
            sb.append(digits).append("0".repeat(exp + 1 - digits.length())).append(".0");
        } else {
            sb.append(digits, 0, exp + 1).append('.').append(digits, exp + 1, digits.length());
        }
        return sb.toString();
    }

    /**
     * The shortest decimal that reads back as {@code d} (what Python's repr prints). Java 17's
     * Double.toString is not always shortest (4.9E-324 vs Python's 5e-324), so search by precision:
     * the exact value rounded to p digits is the closest p-digit candidate.
     */
    private static BigDecimal shortest(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int p = 1; p < 17; p++) {
            BigDecimal r = exact.round(new java.math.MathContext(p, java.math.RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) {
                return r.stripTrailingZeros();
            }
        }
        return exact.round(new java.math.MathContext(17, java.math.RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }
}
