package dev.vaco.chat;

import static dev.vaco.chat.Methods.arg;

import dev.vaco.chat.Values.Undefined;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Jinja's built-in filters (as in {@code jinja2.filters}) plus transformers' {@code tojson}
 * override: the table from filter name to implementation, and the filters that take any value.
 * The families live in {@link StringFilters}, {@link NumberFilters} and {@link SequenceFilters}.
 * Argument order and defaults follow the Python signatures, since templates pass arguments
 * positionally ({@code join(', ')}, {@code default('x', true)}).
 */
final class Filters {
    private Filters() { }

    /** One filter: the piped value, then the call's positional and keyword arguments. */
    @FunctionalInterface
    interface Filter {
        Object apply(Object v, List<Object> a, Map<String, Object> k);
    }

    private static final Map<String, Filter> TABLE = table();

    private static Map<String, Filter> table() {
        Map<String, Filter> t = new HashMap<>();
        t.put("default", Filters::defaultValue);
        t.put("d", Filters::defaultValue);
        t.put("attr", (v, a, k) -> Access.getattr(v, Values.str(arg(a, k, 0, "name", ""))));
        StringFilters.register(t);
        NumberFilters.register(t);
        SequenceFilters.register(t);
        return Map.copyOf(t);
    }

    static boolean exists(String name) {
        return TABLE.containsKey(name);
    }

    static Object apply(String name, Object v, List<Object> a, Map<String, Object> k) {
        Filter filter = TABLE.get(name);
        if (filter == null) {
            throw new TemplateException("no filter named '" + name + "'");
        }
        return filter.apply(v, a, k);
    }

    private static Object defaultValue(Object v, List<Object> a, Map<String, Object> k) {
        boolean bool = Values.truthy(arg(a, k, 1, "boolean", false));
        if (v instanceof Undefined || (bool && !Values.truthy(v))) {
            return arg(a, k, 0, "default_value", "");
        }
        return v;
    }
}
