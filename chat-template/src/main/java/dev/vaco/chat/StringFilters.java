package dev.vaco.chat;

import static dev.vaco.chat.Methods.arg;

import dev.vaco.chat.Filters.Filter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja's filters that make text: case, trimming, escaping, indenting, centring, {@code format}
 * (Python's {@code %}, in {@link PercentFormat}) and transformers' {@code tojson}.
 */
final class StringFilters {
    private StringFilters() { }

    private static final Pattern WORD_BEGINNING = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    static void register(Map<String, Filter> t) {
        t.put("trim", (v, a, k) -> Methods.strip(Values.str(v), optStr(arg(a, k, 0, "chars", null)), true, true));
        t.put("upper", (v, a, k) -> Values.str(v).toUpperCase(Locale.ROOT));
        t.put("lower", (v, a, k) -> Values.str(v).toLowerCase(Locale.ROOT));
        t.put("capitalize", (v, a, k) -> Methods.capitalize(Values.str(v)));
        t.put("title", (v, a, k) -> title(Values.str(v)));
        t.put("string", (v, a, k) -> Values.str(v));
        t.put("safe", (v, a, k) -> v instanceof String ? v : Values.str(v));
        for (String name : List.of("escape", "e", "forceescape")) {
            t.put(name, (v, a, k) -> escape(Values.str(v)));
        }
        // transformers' override: json.dumps(x, ensure_ascii=False, indent=..., ...)
        t.put("tojson", (v, a, k) -> Json.dumps(v, Values.truthy(arg(a, k, 0, "ensure_ascii", false)),
                arg(a, k, 1, "indent", null), sepPart(arg(a, k, 2, "separators", null), 0),
                sepPart(arg(a, k, 2, "separators", null), 1), Values.truthy(arg(a, k, 3, "sort_keys", false))));
        t.put("replace", (v, a, k) -> {
            Object count = arg(a, k, 2, "count", null);
            return Methods.stringMethod(Values.str(v), "replace").call(
                    List.of(arg(a, k, 0, "old", ""), arg(a, k, 1, "new", ""), count == null ? -1L : count), Map.of());
        });
        t.put("indent", (v, a, k) -> {
            if (!(v instanceof String)) { // Jinja does s += "\n": only strings work
                throw new TemplateException("indent filter needs a string, got " + Values.typeName(Access.defined(v)));
            }
            return indent((String) v, arg(a, k, 0, "width", 4L), Values.truthy(arg(a, k, 1, "first", false)),
                    Values.truthy(arg(a, k, 2, "blank", false)));
        });
        t.put("center", (v, a, k) -> center(Values.str(v), (int) Values.asLong(arg(a, k, 0, "width", 80L))));
        t.put("wordcount", (v, a, k) -> wordcount(Values.str(v)));
        t.put("format", (v, a, k) -> { // Jinja: soft_str(value) % (kwargs or args)
            if (!a.isEmpty() && !k.isEmpty()) {
                throw new TemplateException("can't handle positional and keyword arguments at the same time");
            }
            return PercentFormat.format(Values.str(v), k.isEmpty() ? new Values.Tuple(a) : new java.util.LinkedHashMap<>(k));
        });
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

    private static String escape(String s) {
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

    private static String center(String s, int w) {
        int n = s.codePointCount(0, s.length());
        if (n >= w) {
            return s;
        }
        int left = (w - n) / 2 + ((w - n) & w & 1); // CPython's split of odd padding
        return " ".repeat(left) + s + " ".repeat(w - n - left);
    }

    private static long wordcount(String s) {
        Matcher m = WORD.matcher(s);
        long n = 0;
        while (m.find()) {
            n++;
        }
        return n;
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
}
