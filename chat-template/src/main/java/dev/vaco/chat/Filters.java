package dev.vaco.chat;

import static dev.vaco.chat.Methods.arg;

import dev.vaco.chat.Values.Undefined;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja's built-in filters (as in {@code jinja2.filters}) plus transformers' {@code tojson}
 * override. Argument order and defaults follow the Python signatures, since templates pass
 * arguments positionally ({@code join(', ')}, {@code default('x', true)}).
 */
final class Filters {
    private Filters() { }

    private static final Pattern WORD_BEGINNING = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    private static final java.util.Set<String> NAMES = java.util.Set.of("trim", "upper", "lower", "capitalize",
            "title", "length", "count", "first", "last", "join", "default", "d", "tojson", "string", "safe", "escape",
            "e", "forceescape", "int", "float", "list", "items", "map", "select", "reject", "selectattr", "rejectattr",
            "replace", "indent", "unique", "sort", "dictsort", "reverse", "round", "abs", "wordcount", "sum", "min",
            "max", "center", "attr", "format");

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static Object apply(String name, Object v, List<Object> a, Map<String, Object> k) {
        switch (name) {
            case "trim":
                return Methods.strip(Values.str(v), optStr(arg(a, k, 0, "chars", null)), true, true);
            case "upper":
                return Values.str(v).toUpperCase(Locale.ROOT);
            case "lower":
                return Values.str(v).toLowerCase(Locale.ROOT);
            case "capitalize":
                return Methods.capitalize(Values.str(v));
            case "title":
                return title(Values.str(v));
            case "length":
            case "count":
                return Values.length(v);
            case "first": {
                List<Object> items = Values.iterate(v);
                return items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
            }
            case "last": {
                List<Object> items = Values.iterate(v);
                return items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.get(items.size() - 1);
            }
            case "join": {
                String sep = Values.str(arg(a, k, 0, "d", ""));
                Object attr = arg(a, k, 1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                List<Object> items = Values.iterate(v);
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) {
                        sb.append(sep);
                    }
                    sb.append(Values.str(attr == null ? items.get(i) : attribute(items.get(i), attr)));
                }
                return sb.toString();
            }
            case "default":
            case "d": {
                boolean bool = Values.truthy(arg(a, k, 1, "boolean", false));
                if (v instanceof Undefined || (bool && !Values.truthy(v))) {
                    return arg(a, k, 0, "default_value", "");
                }
                return v;
            }
            case "tojson": // transformers' override: json.dumps(x, ensure_ascii=False, indent=..., ...)
                return Json.dumps(v, Values.truthy(arg(a, k, 0, "ensure_ascii", false)), arg(a, k, 1, "indent", null),
                        sepPart(arg(a, k, 2, "separators", null), 0), sepPart(arg(a, k, 2, "separators", null), 1),
                        Values.truthy(arg(a, k, 3, "sort_keys", false)));
            case "string":
                return Values.str(v);
            case "safe":
                return v instanceof String ? v : Values.str(v);
            case "escape":
            case "e":
            case "forceescape":
                return escape(Values.str(v));
            case "int":
                Access.defined(v);
                return toInt(v, arg(a, k, 0, "default", 0L), Values.asLong(arg(a, k, 1, "base", 10L)));
            case "float":
                Access.defined(v);
                return toFloat(v, arg(a, k, 0, "default", 0.0));
            case "list":
                return new ArrayList<>(Values.iterate(v));
            case "items": {
                if (v instanceof Undefined) {
                    return new ArrayList<>();
                }
                if (!(v instanceof Map<?, ?> m)) {
                    throw new TemplateException("items filter: can only get item pairs from a mapping");
                }
                return Methods.dictMethod(m, "items").call(List.of(), Map.of());
            }
            case "map":
                return map(v, a, k);
            case "select":
            case "reject":
                return select(v, a, name.equals("select"), false);
            case "selectattr":
            case "rejectattr":
                return select(v, a, name.equals("selectattr"), true);
            case "replace": {
                Object count = arg(a, k, 2, "count", null);
                return Methods.stringMethod(Values.str(v), "replace").call(
                        List.of(arg(a, k, 0, "old", ""), arg(a, k, 1, "new", ""), count == null ? -1L : count), Map.of());
            }
            case "indent":
                if (!(v instanceof String)) { // Jinja does s += "\n": only strings work
                    throw new TemplateException("indent filter needs a string, got " + Values.typeName(Access.defined(v)));
                }
                return indent((String) v, arg(a, k, 0, "width", 4L), Values.truthy(arg(a, k, 1, "first", false)),
                        Values.truthy(arg(a, k, 2, "blank", false)));
            case "unique":
                return unique(v, Values.truthy(arg(a, k, 0, "case_sensitive", false)), arg(a, k, 1, "attribute", null));
            case "sort":
                return sort(v, Values.truthy(arg(a, k, 0, "reverse", false)),
                        Values.truthy(arg(a, k, 1, "case_sensitive", false)), arg(a, k, 2, "attribute", null));
            case "dictsort": {
                List<Object> items = Methods.dictMethod((Map<?, ?>) v, "items").call(List.of(), Map.of()) instanceof List<?> l
                        ? new ArrayList<>(l) : new ArrayList<>();
                boolean cs = Values.truthy(arg(a, k, 0, "case_sensitive", false));
                int idx = "value".equals(arg(a, k, 1, "by", "key")) ? 1 : 0;
                items.sort((x, y) -> Values.compare(sortKey(((List<?>) x).get(idx), cs), sortKey(((List<?>) y).get(idx), cs)));
                if (Values.truthy(arg(a, k, 2, "reverse", false))) {
                    Collections.reverse(items);
                }
                return items;
            }
            case "reverse":
                if (v instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                } else {
                    List<Object> items = new ArrayList<>(Values.iterate(v));
                    Collections.reverse(items);
                    return items;
                }
            case "round":
                return round(v, Values.asLong(arg(a, k, 0, "precision", 0L)), Values.str(arg(a, k, 1, "method", "common")));
            case "abs":
            {
                Object n = Access.requireNumber(v, "abs");
                return Values.compare(n, 0L) < 0 ? Access.negate(n) : n;
            }
            case "wordcount": {
                Matcher m = WORD.matcher(Values.str(v));
                long n = 0;
                while (m.find()) {
                    n++;
                }
                return n;
            }
            case "sum": {
                Object total = arg(a, k, 1, "start", 0L);
                Object attr = arg(a, k, 0, "attribute", null);
                for (Object o : Values.iterate(v)) {
                    total = Access.arithmetic("+", total, attr == null ? o : attribute(o, attr));
                }
                return total;
            }
            case "min":
            case "max": {
                List<Object> items = sort(v, false, Values.truthy(arg(a, k, 0, "case_sensitive", false)),
                        arg(a, k, 1, "attribute", null));
                if (items.isEmpty()) {
                    return new Undefined("No aggregated item, sequence was empty.");
                }
                return name.equals("min") ? items.get(0) : items.get(items.size() - 1);
            }
            case "center": {
                String s = Values.str(v);
                int w = (int) Values.asLong(arg(a, k, 0, "width", 80L));
                int n = s.codePointCount(0, s.length());
                if (n >= w) {
                    return s;
                }
                int left = (w - n) / 2 + ((w - n) & w & 1); // CPython's split of odd padding
                return " ".repeat(left) + s + " ".repeat(w - n - left);
            }
            case "attr":
                return Access.getattr(v, Values.str(arg(a, k, 0, "name", "")));
            case "format": // Jinja: soft_str(value) % (kwargs or args)
                if (!a.isEmpty() && !k.isEmpty()) {
                    throw new TemplateException("can't handle positional and keyword arguments at the same time");
                }
                return percent(Values.str(v), k.isEmpty() ? new Values.Tuple(a) : new java.util.LinkedHashMap<>(k));
            default:
                throw new TemplateException("no filter named '" + name + "'");
        }
    }

    private static String optStr(Object o) {
        return o == null ? null : Values.str(o);
    }

    private static String sepPart(Object separators, int i) {
        if (separators == null) {
            return null;
        }
        List<Object> parts = Values.iterate(separators);
        return Values.str(parts.get(i));
    }

    /** Jinja's title filter: capitalizes after whitespace, '-', and opening brackets. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        Matcher m = WORD_BEGINNING.matcher(s);
        int last = 0;
        while (m.find()) {
            titleWord(s.substring(last, m.start()), sb);
            sb.append(m.group());
            last = m.end();
        }
        titleWord(s.substring(last), sb);
        return sb.toString();
    }

    private static void titleWord(String w, StringBuilder sb) {
        if (!w.isEmpty()) {
            int first = w.codePointAt(0);
            sb.appendCodePoint(Character.toUpperCase(first)).append(w.substring(Character.charCount(first))
                    .toLowerCase(Locale.ROOT));
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&#34;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
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

    /** Jinja's attribute getter: dotted paths, integer parts index sequences. */
    static Object attribute(Object item, Object path) {
        if (Values.isInt(path)) {
            return Access.getitem(item, path);
        }
        Object cur = item;
        for (String part : Values.str(path).split("\\.")) {
            cur = Access.getitem(cur, part.chars().allMatch(Character::isDigit) && !part.isEmpty()
                    ? (Object) Long.parseLong(part) : part);
        }
        return cur;
    }

    private static List<Object> map(Object v, List<Object> a, Map<String, Object> k) {
        List<Object> out = new ArrayList<>();
        if (!Values.truthy(v)) { // Jinja: "if value: for item in value" -- falsy input maps to nothing
            return out;
        }
        if (k.containsKey("attribute")) {
            Object def = k.get("default");
            for (Object o : Values.iterate(v)) {
                Object x = attribute(o, k.get("attribute"));
                out.add(x instanceof Undefined && k.containsKey("default") ? def : x);
            }
            return out;
        }
        if (a.isEmpty()) {
            throw new TemplateException("map requires a filter name or attribute=");
        }
        String filter = Values.str(a.get(0));
        List<Object> rest = a.subList(1, a.size());
        for (Object o : Values.iterate(v)) {
            out.add(apply(filter, o, rest, k));
        }
        return out;
    }

    private static List<Object> select(Object v, List<Object> a, boolean keep, boolean byAttr) {
        List<Object> out = new ArrayList<>();
        if (!Values.truthy(v)) {
            return out;
        }
        int i = 0;
        Object attr = byAttr ? a.get(i++) : null;
        String test = i < a.size() ? Values.str(a.get(i++)) : null;
        List<Object> testArgs = a.subList(Math.min(i, a.size()), a.size());
        for (Object o : Values.iterate(v)) {
            Object x = byAttr ? attribute(o, attr) : o;
            boolean r = test == null ? Values.truthy(x) : Tests.test(test, x, testArgs);
            if (r == keep) {
                out.add(o);
            }
        }
        return out;
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String ind = width instanceof String w ? w : " ".repeat((int) Values.asLong(width));
        s = s + "\n"; // Jinja's quirk so that splitlines keeps a trailing empty line
        List<Object> lines = Methods.stringMethod(s, "splitlines").call(List.of(), Map.of()) instanceof List<?> l
                ? new ArrayList<>(l) : new ArrayList<>();
        StringBuilder rv = new StringBuilder();
        if (blank) {
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) {
                    rv.append('\n').append(ind);
                }
                rv.append(lines.get(i));
            }
        } else {
            rv.append(lines.get(0));
            if (lines.size() > 1) {
                rv.append('\n');
                for (int i = 1; i < lines.size(); i++) {
                    if (i > 1) {
                        rv.append('\n');
                    }
                    String line = (String) lines.get(i);
                    rv.append(line.isEmpty() ? line : ind + line);
                }
            }
        }
        return first ? ind + rv : rv.toString();
    }

    private static Object sortKey(Object x, boolean caseSensitive) {
        return !caseSensitive && x instanceof String s ? s.toLowerCase(Locale.ROOT) : x;
    }

    private static List<Object> unique(Object v, boolean caseSensitive, Object attr) {
        List<Object> out = new ArrayList<>();
        List<Object> seen = new ArrayList<>();
        for (Object o : Values.iterate(v)) {
            Object key = sortKey(attr == null ? o : attribute(o, attr), caseSensitive);
            if (!Values.contains(seen, key)) {
                seen.add(key);
                out.add(o);
            }
        }
        return out;
    }

    private static List<Object> sort(Object v, boolean reverse, boolean caseSensitive, Object attr) {
        List<Object> items = new ArrayList<>(Values.iterate(v));
        Comparator<Object> cmp = (x, y) -> Values.compare(sortKey(attr == null ? x : attribute(x, attr), caseSensitive),
                sortKey(attr == null ? y : attribute(y, attr), caseSensitive));
        items.sort(reverse ? cmp.reversed() : cmp);
        return items;
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

    /**
     * Python's {@code str % args}: {@code %s %r %d %i %f %x %%} with flags, width, precision and
     * {@code %(name)s}. As in Python, a non-tuple right side is one argument, and a mapping-like one
     * (dict, list) is also used for named lookups and never triggers "not all arguments converted".
     */
    static String percent(String fmt, Object right) {
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
            if (conv == '%' && key == null) {
                sb.append('%');
                continue;
            }
            Object x;
            if (key != null) {
                if (!mappingLike) {
                    throw new TemplateException("format requires a mapping");
                }
                x = Access.getitem(right, key);
            } else if (ai < args.size()) {
                x = args.get(ai++);
            } else {
                throw new TemplateException("not enough arguments for format string");
            }
            String body = switch (conv) {
                case 's' -> precision >= 0 ? truncate(Values.str(x), precision) : Values.str(x);
                case 'r', 'a' -> Values.repr(x);
                case 'd', 'i', 'u' -> Long.toString(number(x, conv) instanceof Double d ? (long) (double) d : Values.asLong(x));
                case 'f', 'F' -> new BigDecimal(Values.asDouble(number(x, conv)))
                        .setScale(precision < 0 ? 6 : precision, RoundingMode.HALF_EVEN).toPlainString();
                case 'x' -> Long.toHexString(Values.asLong(number(x, conv)));
                case 'X' -> Long.toHexString(Values.asLong(number(x, conv))).toUpperCase(Locale.ROOT);
                case 'o' -> Long.toOctalString(Values.asLong(number(x, conv)));
                default -> throw new TemplateException("unsupported format character '" + conv + "'");
            };
            boolean numeric = "diufFxXo".indexOf(conv) >= 0;
            if (numeric && flags.contains("+") && !body.startsWith("-")) {
                body = "+" + body;
            }
            int pad = width - body.codePointCount(0, body.length());
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
            sb.append(body);
        }
        if (ai < args.size() && !mappingLike) {
            throw new TemplateException("not all arguments converted during string formatting");
        }
        return sb.toString();
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

    private static Object fail(String msg) {
        throw new TemplateException(msg);
    }
}
