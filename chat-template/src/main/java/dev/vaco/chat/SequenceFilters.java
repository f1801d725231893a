package dev.vaco.chat;

import static dev.vaco.chat.Methods.arg;

import dev.vaco.chat.Filters.Filter;
import dev.vaco.chat.Values.Undefined;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Jinja's filters over sequences and mappings: length, first/last, join, map/select, sorting,
 * aggregation. Items are reached through Jinja's attribute paths ({@link #attribute}).
 */
final class SequenceFilters {
    private SequenceFilters() { }

    static void register(Map<String, Filter> t) {
        t.put("length", (v, a, k) -> Values.length(v));
        t.put("count", (v, a, k) -> Values.length(v));
        t.put("first", (v, a, k) -> {
            List<Object> items = Values.iterate(v);
            return items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
        });
        t.put("last", (v, a, k) -> {
            List<Object> items = Values.iterate(v);
            return items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.get(items.size() - 1);
        });
        t.put("join", SequenceFilters::join);
        t.put("list", (v, a, k) -> new ArrayList<>(Values.iterate(v)));
        t.put("items", SequenceFilters::items);
        t.put("map", SequenceFilters::map);
        t.put("select", (v, a, k) -> select(v, a, true, false));
        t.put("reject", (v, a, k) -> select(v, a, false, false));
        t.put("selectattr", (v, a, k) -> select(v, a, true, true));
        t.put("rejectattr", (v, a, k) -> select(v, a, false, true));
        t.put("unique", (v, a, k) -> unique(v, Values.truthy(arg(a, k, 0, "case_sensitive", false)),
                arg(a, k, 1, "attribute", null)));
        t.put("sort", (v, a, k) -> sort(v, Values.truthy(arg(a, k, 0, "reverse", false)),
                Values.truthy(arg(a, k, 1, "case_sensitive", false)), arg(a, k, 2, "attribute", null)));
        t.put("dictsort", SequenceFilters::dictsort);
        t.put("reverse", (v, a, k) -> reverse(v));
        t.put("sum", SequenceFilters::sum);
        t.put("min", (v, a, k) -> minOrMax(v, a, k, true));
        t.put("max", (v, a, k) -> minOrMax(v, a, k, false));
    }

    private static String join(Object v, List<Object> a, Map<String, Object> k) {
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

    private static Object items(Object v, List<Object> a, Map<String, Object> k) {
        if (v instanceof Undefined) {
            return new ArrayList<>();
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new TemplateException("items filter: can only get item pairs from a mapping");
        }
        return Methods.dictMethod(m, "items").call(List.of(), Map.of());
    }

    private static List<Object> dictsort(Object v, List<Object> a, Map<String, Object> k) {
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

    private static Object reverse(Object v) {
        if (v instanceof String s) {
            return new StringBuilder(s).reverse().toString();
        }
        List<Object> items = new ArrayList<>(Values.iterate(v));
        Collections.reverse(items);
        return items;
    }

    private static Object sum(Object v, List<Object> a, Map<String, Object> k) {
        Object total = arg(a, k, 1, "start", 0L);
        Object attr = arg(a, k, 0, "attribute", null);
        for (Object o : Values.iterate(v)) {
            total = Access.arithmetic("+", total, attr == null ? o : attribute(o, attr));
        }
        return total;
    }

    private static Object minOrMax(Object v, List<Object> a, Map<String, Object> k, boolean min) {
        List<Object> items = sort(v, false, Values.truthy(arg(a, k, 0, "case_sensitive", false)),
                arg(a, k, 1, "attribute", null));
        if (items.isEmpty()) {
            return new Undefined("No aggregated item, sequence was empty.");
        }
        return min ? items.get(0) : items.get(items.size() - 1);
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
            out.add(Filters.apply(filter, o, rest, k));
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
}
