package dev.vaco.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python semantics for template values. Templates are written against Python objects, so output
 * must follow Python: {@code str(None)} is "None", {@code str(True)} is "True", a list prints as its
 * repr {@code ['a', 'b']}, {@code 1 == 1.0 == True}, empty containers are falsy.
 *
 * <p>Value model: null (None), {@link Undefined}, Boolean, Long, Double, String, List (tuples are
 * {@link Tuple}), Map (insertion-ordered), {@link Namespace}, {@link Callable}. Caller-supplied
 * context is converted to this model once by {@link #normalize}.
 */
final class Values {
    private Values() { }

    /** Jinja's default Undefined: falsy, renders as "", iterates as empty; most other uses are errors. */
    static final class Undefined {
        final String hint;

        Undefined(String hint) {
            this.hint = hint;
        }

        @Override
        public String toString() {
            return "";
        }
    }

    static final Undefined UNDEFINED = new Undefined("value is undefined");

    /** {@code namespace(...)}: the one mutable object templates may assign attributes on. */
    static final class Namespace {
        final Map<String, Object> attrs = new LinkedHashMap<>();
    }

    /** An immutable list that prints with parentheses. */
    static final class Tuple extends AbstractList<Object> {
        private final List<Object> items;

        Tuple(List<Object> items) {
            this.items = List.copyOf(nullSafe(items));
        }

        private static List<Object> nullSafe(List<Object> l) {
            // List.copyOf rejects nulls; wrap them.
            List<Object> out = new ArrayList<>(l.size());
            for (Object o : l) {
                out.add(o == null ? NONE_BOX : o);
            }
            return out;
        }

        @Override
        public Object get(int i) {
            Object o = items.get(i);
            return o == NONE_BOX ? null : o;
        }

        @Override
        public int size() {
            return items.size();
        }
    }

    private static final Object NONE_BOX = new Object();

    /** Anything callable from a template: globals, macros, bound string/dict methods. */
    @FunctionalInterface
    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    // ---- conversion of caller data ----------------------------------------------------------

    private static final ObjectMapper MAPPER = new ObjectMapper();

    static Object normalize(Object v) {
        return normalize(v, 0);
    }

    private static Object normalize(Object v, int depth) {
        if (depth > 500) {
            throw new TemplateException("context data nested too deeply (cycle?)");
        }
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double
                || v instanceof Undefined || v instanceof Namespace || v instanceof Callable) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float) {
            return ((Float) v).doubleValue();
        }
        if (v instanceof BigInteger b) {
            return b.bitLength() < 64 ? (Object) b.longValue() : (Object) b.doubleValue();
        }
        if (v instanceof BigDecimal b) {
            return b.doubleValue();
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof CharSequence || v instanceof Character || v instanceof Enum<?>) {
            return v.toString();
        }
        if (v instanceof JsonNode j) {
            return normalize(MAPPER.convertValue(j, Object.class), depth + 1);
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(String.valueOf(e.getKey()), normalize(e.getValue(), depth + 1));
            }
            return out;
        }
        if (v instanceof Tuple) {
            return v;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            for (Object o : c) {
                out.add(normalize(o, depth + 1));
            }
            return out;
        }
        if (v instanceof Object[] a) {
            return normalize(List.of(a), depth + 1);
        }
        return v.toString();
    }

    // ---- truthiness, str (repr is Repr's job) ----------------------------------------------

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0.0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    /** Python {@code str(v)}, which is what {@code {{ v }}} prints. */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return Repr.repr(v);
    }

    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Double) {
            return "float";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof Tuple) {
            return "tuple";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "dict";
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof Namespace) {
            return "Namespace";
        }
        if (v instanceof Callable) {
            return "function";
        }
        return v.getClass().getSimpleName();
    }

    // ---- numbers and comparison -------------------------------------------------------------

    /** True for int-like values; Python's bool is an int subclass. */
    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static long asLong(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) v).longValue();
    }

    static double asDouble(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) v).doubleValue();
    }

    /** Python {@code ==}. Undefined equals only Undefined, as in Jinja. */
    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (isNumber(a) && isNumber(b)) {
            if (isInt(a) && isInt(b)) {
                return asLong(a) == asLong(b);
            }
            return asDouble(a) == asDouble(b);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if ((a instanceof Tuple) != (b instanceof Tuple) || la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                if (!mb.containsKey(e.getKey()) || !eq(e.getValue(), mb.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    /** Python ordering ({@code <}); TemplateException for unorderable types, as Python's TypeError. */
    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (isInt(a) && isInt(b)) {
                return Long.compare(asLong(a), asLong(b));
            }
            return Double.compare(asDouble(a), asDouble(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return compareCodePoints(sa, sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof Tuple) == (b instanceof Tuple)) {
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return compare(la.get(i), lb.get(i));
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw new TemplateException("'<' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /** Python {@code x in container}. */
    static boolean contains(Object container, Object x) {
        if (container instanceof String s) {
            if (!(x instanceof String xs)) {
                throw new TemplateException("'in <string>' requires string as left operand, not " + typeName(x));
            }
            return s.contains(xs);
        }
        if (container instanceof Map<?, ?> m) {
            if ((x instanceof List && !(x instanceof Tuple)) || x instanceof Map) {
                throw new TemplateException("unhashable type: '" + typeName(x) + "'");
            }
            return m.containsKey(x instanceof Boolean b ? (Object) (b ? 1L : 0L) : x);
        }
        if (container instanceof List<?> l) {
            for (Object o : l) {
                if (eq(o, x)) {
                    return true;
                }
            }
            return false;
        }
        if (container instanceof Undefined) {
            return false;
        }
        if (container instanceof Namespace n) {
            return x instanceof String && n.attrs.containsKey(x);
        }
        throw new TemplateException("argument of type '" + typeName(container) + "' is not iterable");
    }

    /** Python iteration: strings by code point, dicts by key; Undefined iterates as empty. */
    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) {
            @SuppressWarnings("unchecked")
            List<Object> lo = (List<Object>) l;
            return lo;
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>(s.length());
            s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        if (v instanceof Undefined) {
            return List.of();
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            Iterator<?> i = it.iterator();
            while (i.hasNext()) {
                out.add(i.next());
            }
            return out;
        }
        throw new TemplateException("'" + typeName(v) + "' object is not iterable");
    }

    static boolean isIterable(Object v) {
        return v instanceof List || v instanceof Map || v instanceof String || v instanceof Undefined;
    }

    /** Python {@code len}. */
    static long length(Object v) {
        if (v instanceof String s) {
            return s.codePointCount(0, s.length());
        }
        if (v instanceof Collection<?> c) {
            return c.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        throw new TemplateException("object of type '" + typeName(v) + "' has no len()");
    }
}
