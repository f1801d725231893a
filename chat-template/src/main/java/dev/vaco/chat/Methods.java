package dev.vaco.chat;

import dev.vaco.chat.Values.Callable;
import dev.vaco.chat.Values.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python methods templates call on values: {@code content.split('</think>')[-1].lstrip('\n')},
 * {@code message.get('name')}, {@code tools.items()}. Semantics follow CPython (whitespace is
 * Python's {@code str.isspace}, {@code split()} without a separator drops empty parts, ...).
 */
final class Methods {
    private Methods() { }

    static Callable stringMethod(String s, String name) {
        return switch (name) {
            case "strip" -> (a, k) -> strip(s, chars(a, k), true, true);
            case "lstrip" -> (a, k) -> strip(s, chars(a, k), true, false);
            case "rstrip" -> (a, k) -> strip(s, chars(a, k), false, true);
            case "split" -> (a, k) -> split(s, optStr(arg(a, k, 0, "sep", null)), maxsplit(a, k));
            case "rsplit" -> (a, k) -> rsplit(s, optStr(arg(a, k, 0, "sep", null)), maxsplit(a, k));
            case "splitlines" -> (a, k) -> splitlines(s, Values.truthy(arg(a, k, 0, "keepends", false)));
            case "startswith" -> (a, k) -> affix(s, arg(a, k, 0, "prefix", null), true);
            case "endswith" -> (a, k) -> affix(s, arg(a, k, 0, "suffix", null), false);
            case "replace" -> (a, k) -> replace(s, str(arg(a, k, 0, "old", null)), str(arg(a, k, 1, "new", null)),
                    Values.asLong(arg(a, k, 2, "count", -1L)));
            case "upper" -> (a, k) -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> (a, k) -> s.toLowerCase(java.util.Locale.ROOT);
            case "casefold" -> (a, k) -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> (a, k) -> pyTitle(s);
            case "capitalize" -> (a, k) -> capitalize(s);
            case "swapcase" -> (a, k) -> swapcase(s);
            case "find" -> (a, k) -> (long) cpIndex(s, s.indexOf(str(arg(a, k, 0, "sub", null)))); 
            case "rfind" -> (a, k) -> (long) cpIndex(s, s.lastIndexOf(str(arg(a, k, 0, "sub", null))));
            case "index", "rindex" -> (a, k) -> {
                String sub = str(arg(a, k, 0, "sub", null));
                int i = name.equals("index") ? s.indexOf(sub) : s.lastIndexOf(sub);
                if (i < 0) {
                    throw new TemplateException("substring not found");
                }
                return (long) cpIndex(s, i);
            };
            case "count" -> (a, k) -> count(s, str(arg(a, k, 0, "sub", null)));
            case "join" -> (a, k) -> {
                StringBuilder sb = new StringBuilder();
                List<Object> items = Values.iterate(arg(a, k, 0, "iterable", null));
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) {
                        sb.append(s);
                    }
                    if (!(items.get(i) instanceof String)) {
                        throw new TemplateException("sequence item " + i + ": expected str instance, "
                                + Values.typeName(items.get(i)) + " found");
                    }
                    sb.append((String) items.get(i));
                }
                return sb.toString();
            };
            case "format" -> (a, k) -> format(s, a, k);
            case "removeprefix" -> (a, k) -> {
                String p = str(arg(a, k, 0, "prefix", null));
                return s.startsWith(p) ? s.substring(p.length()) : s;
            };
            case "removesuffix" -> (a, k) -> {
                String p = str(arg(a, k, 0, "suffix", null));
                return s.endsWith(p) && !p.isEmpty() ? s.substring(0, s.length() - p.length()) : s;
            };
            case "isdigit", "isnumeric", "isdecimal" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Methods::isSpace);
            case "islower" -> (a, k) -> s.codePoints().anyMatch(Character::isLowerCase)
                    && s.codePoints().noneMatch(c -> Character.isUpperCase(c) || Character.isTitleCase(c));
            case "isupper" -> (a, k) -> s.codePoints().anyMatch(Character::isUpperCase)
                    && s.codePoints().noneMatch(Character::isLowerCase);
            case "zfill" -> (a, k) -> {
                int w = (int) Values.asLong(arg(a, k, 0, "width", 0L));
                int n = s.codePointCount(0, s.length());
                if (n >= w) {
                    return s;
                }
                boolean sign = s.startsWith("+") || s.startsWith("-");
                return (sign ? s.substring(0, 1) : "") + "0".repeat(w - n) + (sign ? s.substring(1) : s);
            };
            default -> null;
        };
    }

    static Callable dictMethod(Map<?, ?> m, String name) {
        return switch (name) {
            case "items" -> (a, k) -> {
                List<Object> out = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    out.add(new Tuple(java.util.Arrays.asList(e.getKey(), e.getValue())));
                }
                return out;
            };
            case "keys" -> (a, k) -> new ArrayList<Object>(m.keySet());
            case "values" -> (a, k) -> new ArrayList<Object>(m.values());
            case "get" -> (a, k) -> {
                Object key = arg(a, k, 0, "key", null);
                return m.containsKey(key) ? m.get(key) : arg(a, k, 1, "default", null);
            };
            case "copy" -> (a, k) -> new java.util.LinkedHashMap<Object, Object>(m);
            default -> null;
        };
    }

    static Callable listMethod(List<?> l, String name) {
        return switch (name) {
            case "count" -> (a, k) -> {
                long n = 0;
                for (Object o : l) {
                    if (Values.eq(o, arg(a, k, 0, "value", null))) {
                        n++;
                    }
                }
                return n;
            };
            case "index" -> (a, k) -> {
                for (int i = 0; i < l.size(); i++) {
                    if (Values.eq(l.get(i), arg(a, k, 0, "value", null))) {
                        return (long) i;
                    }
                }
                throw new TemplateException("value is not in list");
            };
            case "copy" -> (a, k) -> new ArrayList<Object>(l);
            default -> null;
        };
    }

    // ---- argument helpers -------------------------------------------------------------------

    static Object arg(List<Object> args, Map<String, Object> kwargs, int i, String name, Object def) {
        if (i < args.size()) {
            return args.get(i);
        }
        return kwargs.containsKey(name) ? kwargs.get(name) : def;
    }

    private static String str(Object v) {
        if (!(v instanceof String s)) {
            throw new TemplateException("expected a string argument, got " + Values.typeName(v));
        }
        return s;
    }

    private static String optStr(Object v) {
        return v == null ? null : str(v);
    }

    private static String chars(List<Object> a, Map<String, Object> k) {
        return optStr(arg(a, k, 0, "chars", null));
    }

    private static long maxsplit(List<Object> a, Map<String, Object> k) {
        return Values.asLong(arg(a, k, 1, "maxsplit", -1L));
    }

    // ---- implementations --------------------------------------------------------------------

    /** Python's {@code str.isspace} for one code point (wider than Java's isWhitespace: includes NBSP). */
    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int[] cps = s.codePoints().toArray();
        int b = 0;
        int e = cps.length;
        if (left) {
            while (b < e && stripped(cps[b], chars)) {
                b++;
            }
        }
        if (right) {
            while (e > b && stripped(cps[e - 1], chars)) {
                e--;
            }
        }
        return new String(cps, b, e - b);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
    }

    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int[] cps = s.codePoints().toArray();
            int i = 0;
            while (true) {
                while (i < cps.length && isSpace(cps[i])) {
                    i++;
                }
                if (i >= cps.length) {
                    break;
                }
                if (maxsplit >= 0 && out.size() >= maxsplit) {
                    int e = cps.length;
                    while (e > i && isSpace(cps[e - 1])) {
                        e--;
                    }
                    out.add(new String(cps, i, e - i));
                    break;
                }
                int j = i;
                while (j < cps.length && !isSpace(cps[j])) {
                    j++;
                }
                out.add(new String(cps, i, j - i));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new TemplateException("empty separator");
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int i = s.indexOf(sep, from);
            if (i < 0) {
                break;
            }
            out.add(s.substring(from, i));
            from = i + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (maxsplit < 0) {
            return split(s, sep, -1);
        }
        if (sep == null) {
            String rev = new StringBuilder(s).reverse().toString();
            List<Object> parts = split(rev, null, maxsplit);
            List<Object> out = new ArrayList<>();
            for (int i = parts.size() - 1; i >= 0; i--) {
                out.add(new StringBuilder((String) parts.get(i)).reverse().toString());
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new TemplateException("empty separator");
        }
        List<Object> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < maxsplit) {
            int i = s.lastIndexOf(sep, end - sep.length());
            if (i < 0) {
                break;
            }
            out.add(0, s.substring(i + sep.length(), end));
            end = i;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    private static List<Object> splitlines(String s, boolean keepends) {
        List<Object> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u000b' || c == '\f' || c == '\u001c' || c == '\u001d'
                    || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                int eol = i + (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1);
                out.add(s.substring(start, keepends ? eol : i));
                start = eol;
                i = eol;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    private static boolean affix(String s, Object what, boolean prefix) {
        if (what instanceof List<?> options) { // Python accepts a tuple of candidates
            for (Object o : options) {
                if (affix(s, o, prefix)) {
                    return true;
                }
            }
            return false;
        }
        String p = str(what);
        return prefix ? s.startsWith(p) : s.endsWith(p);
    }

    private static String replace(String s, String old, String neu, long count) {
        if (count < 0) {
            if (old.isEmpty()) {
                return replace(s, old, neu, Long.MAX_VALUE);
            }
            return s.replace(old, neu);
        }
        StringBuilder sb = new StringBuilder();
        if (old.isEmpty()) { // Python inserts at every code point boundary
            int[] cps = s.codePoints().toArray();
            long n = 0;
            for (int i = 0; i <= cps.length; i++) {
                if (n < count) {
                    sb.append(neu);
                    n++;
                }
                if (i < cps.length) {
                    sb.appendCodePoint(cps[i]);
                }
            }
            return sb.toString();
        }
        int from = 0;
        long n = 0;
        while (n < count) {
            int i = s.indexOf(old, from);
            if (i < 0) {
                break;
            }
            sb.append(s, from, i).append(neu);
            from = i + old.length();
            n++;
        }
        return sb.append(s.substring(from)).toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1;
        }
        long n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }

    private static int cpIndex(String s, int charIndex) {
        return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
    }

    /** Python {@code str.title()}: a letter is uppercased when the previous character is not cased. */
    static String pyTitle(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int cp : s.codePoints().toArray()) {
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            sb.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            prevCased = cased;
        }
        return sb.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new String(Character.toChars(Character.toTitleCase(first)))
                + s.substring(n).toLowerCase(java.util.Locale.ROOT);
    }

    private static String swapcase(String s) {
        StringBuilder sb = new StringBuilder();
        for (int cp : s.codePoints().toArray()) {
            sb.appendCodePoint(Character.isUpperCase(cp) ? Character.toLowerCase(cp)
                    : Character.isLowerCase(cp) ? Character.toUpperCase(cp) : cp);
        }
        return sb.toString();
    }

    /** {@code str.format} with {@code {}}, {@code {0}}, {@code {name}} fields (no format specs). */
    private static String format(String s, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                sb.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                sb.append('}');
                i++;
            } else if (c == '{') {
                int e = s.indexOf('}', i);
                if (e < 0) {
                    throw new TemplateException("Single '{' encountered in format string");
                }
                String field = s.substring(i + 1, e);
                if (field.contains(":") || field.contains("!")) {
                    throw new TemplateException("format specs are not supported: {" + field + "}");
                }
                Object v;
                if (field.isEmpty()) {
                    v = auto < args.size() ? args.get(auto++) : fail("Replacement index out of range");
                } else if (field.chars().allMatch(Character::isDigit)) {
                    int idx = Integer.parseInt(field);
                    v = idx < args.size() ? args.get(idx) : fail("Replacement index out of range");
                } else {
                    v = kwargs.containsKey(field) ? kwargs.get(field) : fail("KeyError: '" + field + "'");
                }
                sb.append(Values.str(v));
                i = e;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static Object fail(String msg) {
        throw new TemplateException(msg);
    }
}
