package dev.vaco.chat;

import dev.vaco.chat.Values.Undefined;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's {@code str % args}: {@code %s %r %d %i %f %x %%} with flags, width, precision and
 * {@code %(name)s}. As in Python, a non-tuple right side is one argument, and a mapping-like one
 * (dict, list) is also used for named lookups and never triggers "not all arguments converted".
 * Templates reach it through the {@code %} operator and Jinja's {@code format} filter.
 */
final class PercentFormat {
    private PercentFormat() { }

    /** One conversion specifier, {@code %(key)flags width .precision conv}; {@code end} is the index after it. */
    private record Spec(String key, String flags, int width, int precision, char conv, int end) {
        boolean numeric() {
            return "diufFxXo".indexOf(conv) >= 0;
        }
    }

    static String format(String fmt, Object right) {
        boolean mappingLike = right instanceof Map || right instanceof Undefined
                || (right instanceof List && !(right instanceof Values.Tuple));
        List<Object> args = right instanceof Values.Tuple t ? t : java.util.Collections.singletonList(right);
        StringBuilder sb = new StringBuilder();
        int ai = 0;
        int i = 0;
        while (i < fmt.length()) {
            char c = fmt.charAt(i++);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            Spec spec = parseSpec(fmt, i);
            i = spec.end();
            if (spec.conv() == '%' && spec.key() == null) {
                sb.append('%');
                continue;
            }
            Object x;
            if (spec.key() != null) {
                if (!mappingLike) {
                    throw new TemplateException("format requires a mapping");
                }
                x = Access.getitem(right, spec.key());
            } else if (ai < args.size()) {
                x = args.get(ai++);
            } else {
                throw new TemplateException("not enough arguments for format string");
            }
            sb.append(pad(spec, convert(spec, x)));
        }
        if (ai < args.size() && !mappingLike) {
            throw new TemplateException("not all arguments converted during string formatting");
        }
        return sb.toString();
    }

    /** Reads the specifier that starts at {@code i}, just after its '%'. */
    private static Spec parseSpec(String fmt, int i) {
        if (i >= fmt.length()) {
            throw new TemplateException("incomplete format");
        }
        String key = null;
        if (fmt.charAt(i) == '(') {
            int e = fmt.indexOf(')', i);
            if (e < 0) {
                throw new TemplateException("incomplete format key");
            }
            key = fmt.substring(i + 1, e);
            i = e + 1;
        }
        int flagsStart = i;
        while (i < fmt.length() && "-+ 0#".indexOf(fmt.charAt(i)) >= 0) {
            i++;
        }
        String flags = fmt.substring(flagsStart, i);
        int ws = i;
        while (i < fmt.length() && Character.isDigit(fmt.charAt(i))) {
            i++;
        }
        int width = i > ws ? Integer.parseInt(fmt.substring(ws, i)) : 0;
        int precision = -1;
        if (i < fmt.length() && fmt.charAt(i) == '.') {
            int ps = ++i;
            while (i < fmt.length() && Character.isDigit(fmt.charAt(i))) {
                i++;
            }
            precision = i > ps ? Integer.parseInt(fmt.substring(ps, i)) : 0;
        }
        if (i >= fmt.length()) {
            throw new TemplateException("incomplete format");
        }
        char conv = fmt.charAt(i++);
        return new Spec(key, flags, width, precision, conv, i);
    }

    private static String convert(Spec spec, Object x) {
        char conv = spec.conv();
        int precision = spec.precision();
        return switch (conv) {
            case 's' -> precision >= 0 ? truncate(Values.str(x), precision) : Values.str(x);
            case 'r', 'a' -> Repr.repr(x);
            case 'd', 'i', 'u' -> Long.toString(number(x, conv) instanceof Double d ? (long) (double) d : Values.asLong(x));
            case 'f', 'F' -> new BigDecimal(Values.asDouble(number(x, conv)))
                    .setScale(precision < 0 ? 6 : precision, RoundingMode.HALF_EVEN).toPlainString();
            case 'x' -> Long.toHexString(Values.asLong(number(x, conv)));
            case 'X' -> Long.toHexString(Values.asLong(number(x, conv))).toUpperCase(Locale.ROOT);
            case 'o' -> Long.toOctalString(Values.asLong(number(x, conv)));
            default -> throw new TemplateException("unsupported format character '" + conv + "'");
        };
    }

    /** Applies the '+' flag and the width: left-aligned with '-', zero-filled after the sign with '0'. */
    private static String pad(Spec spec, String body) {
        String flags = spec.flags();
        boolean numeric = spec.numeric();
        if (numeric && flags.contains("+") && !body.startsWith("-")) {
            body = "+" + body;
        }
        int pad = spec.width() - body.codePointCount(0, body.length());
        if (pad > 0) {
            if (flags.contains("-")) {
                body = body + " ".repeat(pad);
            } else if (numeric && flags.contains("0")) {
                int signLen = body.startsWith("-") || body.startsWith("+") ? 1 : 0;
                body = body.substring(0, signLen) + "0".repeat(pad) + body.substring(signLen);
            } else {
                body = " ".repeat(pad) + body;
            }
        }
        return body;
    }

    private static String truncate(String s, int n) {
        return s.codePointCount(0, s.length()) <= n ? s : s.substring(0, s.offsetByCodePoints(0, n));
    }

    private static Object number(Object x, char conv) {
        if (!Values.isNumber(x)) {
            throw new TemplateException("%" + conv + " format: a real number is required, not " + Values.typeName(x));
        }
        return x;
    }
}
