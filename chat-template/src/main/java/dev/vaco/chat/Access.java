package dev.vaco.chat;

import dev.vaco.chat.Values.Namespace;
import dev.vaco.chat.Values.Tuple;
import dev.vaco.chat.Values.Undefined;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Attribute/item access, slicing and arithmetic with the semantics of Jinja's
 * {@code ImmutableSandboxedEnvironment} over Python objects.
 *
 * <p>{@code obj.name} tries a Python attribute first and then {@code obj['name']}; {@code obj['name']}
 * does the reverse. So {@code message.content} reads the dict key, while {@code message.items}
 * is the dict method. Methods that mutate lists and dicts ({@code append}, {@code update}, ...)
 * are "unsafe" in the immutable sandbox: they resolve to an undefined value that fails when called,
 * so a template that works under transformers also works here and vice versa.
 */
final class Access {
    private Access() { }

    private static final Set<String> DICT_UNSAFE = Set.of("clear", "pop", "popitem", "setdefault", "update");
    private static final Set<String> LIST_UNSAFE =
            Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");

    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw new TemplateException(u.hint);
        }
        if (obj instanceof Namespace ns) {
            Object v = ns.attrs.get(name);
            return v != null || ns.attrs.containsKey(name) ? v : undefinedAttr(obj, name);
        }
        if (obj instanceof Interpreter.Loop loop) {
            return loop.attr(name);
        }
        Object method = method(obj, name);
        if (method != null) {
            return method;
        }
        if (obj instanceof Map<?, ?> m && (m.containsKey(name))) {
            return m.get(name);
        }
        return undefinedAttr(obj, name);
    }

    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw new TemplateException(u.hint);
        }
        if (obj instanceof Map<?, ?> m) {
            Object k = key instanceof Boolean b ? (Object) (b ? 1L : 0L) : key;
            if (m.containsKey(k)) {
                return m.get(k);
            }
        } else if ((obj instanceof List<?> || obj instanceof String) && Values.isInt(key)) {
            long i = Values.asLong(key);
            if (obj instanceof List<?> l) {
                long idx = i < 0 ? i + l.size() : i;
                if (idx >= 0 && idx < l.size()) {
                    return l.get((int) idx);
                }
            } else {
                int[] cps = ((String) obj).codePoints().toArray();
                long idx = i < 0 ? i + cps.length : i;
                if (idx >= 0 && idx < cps.length) {
                    return new String(cps, (int) idx, 1);
                }
            }
            return new Undefined(Values.typeName(obj) + " index " + i + " out of range");
        } else if (obj instanceof Namespace || obj instanceof Interpreter.Loop) {
            return key instanceof String s ? getattr(obj, s) : undefinedAttr(obj, String.valueOf(key));
        }
        if (key instanceof String s) {
            Object method = method(obj, s);
            if (method != null) {
                return method;
            }
        }
        return new Undefined("'" + Values.typeName(obj) + " object' has no attribute " + Repr.repr(key));
    }

    private static Undefined undefinedAttr(Object obj, String name) {
        return new Undefined("'" + Values.typeName(obj) + " object' has no attribute '" + name + "'");
    }

    /** The bound Python method {@code obj.name}, an unsafe-undefined for mutators, or null if none. */
    private static Object method(Object obj, String name) {
        if (obj instanceof String s) {
            return Methods.stringMethod(s, name);
        }
        if (obj instanceof Map<?, ?> m) {
            if (DICT_UNSAFE.contains(name)) {
                return unsafe(obj, name);
            }
            return Methods.dictMethod(m, name);
        }
        if (obj instanceof List<?> l) {
            if (LIST_UNSAFE.contains(name) && !(obj instanceof Tuple)) {
                return unsafe(obj, name);
            }
            return Methods.listMethod(l, name);
        }
        return null;
    }

    private static Undefined unsafe(Object obj, String name) {
        return new Undefined("access to attribute '" + name + "' of '" + Values.typeName(obj)
                + "' object is unsafe (templates run in an immutable sandbox, as in transformers)");
    }

    /** Python slicing {@code obj[start:stop:step]} for lists, tuples and strings (by code point). */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        if (obj instanceof Undefined u) {
            throw new TemplateException(u.hint);
        }
        long st = step == null ? 1 : sliceIndex(step);
        if (st == 0) {
            throw new TemplateException("slice step cannot be zero");
        }
        if (obj instanceof String s) {
            int[] cps = s.codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int i : sliceIndices(cps.length, start, stop, st)) {
                sb.appendCodePoint(cps[i]);
            }
            return sb.toString();
        }
        if (obj instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (int i : sliceIndices(l.size(), start, stop, st)) {
                out.add(l.get(i));
            }
            return obj instanceof Tuple ? new Tuple(out) : out;
        }
        // Jinja compiles slices to a plain Python subscript (not the sandbox's getitem): a TypeError
        throw new TemplateException("'" + Values.typeName(obj) + "' object is not subscriptable");
    }

    private static long sliceIndex(Object v) {
        if (!Values.isInt(v)) {
            throw new TemplateException("slice indices must be integers or None");
        }
        return Values.asLong(v);
    }

    /** CPython's PySlice_AdjustIndices. */
    private static int[] sliceIndices(int len, Object startObj, Object stopObj, long step) {
        long start;
        long stop;
        if (startObj == null) {
            start = step < 0 ? len - 1 : 0;
        } else {
            start = sliceIndex(startObj);
            if (start < 0) {
                start = Math.max(start + len, step < 0 ? -1 : 0);
            } else if (start >= len) {
                start = step < 0 ? len - 1 : len;
            }
        }
        if (stopObj == null) {
            stop = step < 0 ? -1 : len;
        } else {
            stop = sliceIndex(stopObj);
            if (stop < 0) {
                stop = Math.max(stop + len, step < 0 ? -1 : 0);
            } else if (stop >= len) {
                stop = step < 0 ? len - 1 : len;
            }
        }
        List<Integer> idx = new ArrayList<>();
        if (step > 0) {
            for (long i = start; i < stop; i += step) {
                idx.add((int) i);
            }
        } else {
            for (long i = start; i > stop; i += step) {
                idx.add((int) i);
            }
        }
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---- arithmetic -------------------------------------------------------------------------

    /** Undefined operands fail like Jinja's Undefined (which raises on arithmetic and ordering). */
    static Object defined(Object v) {
        if (v instanceof Undefined u) {
            throw new TemplateException(u.hint);
        }
        return v;
    }

    static Object requireNumber(Object v, String op) {
        defined(v);
        if (!Values.isNumber(v)) {
            throw new TemplateException("bad operand type for unary " + op + ": '" + Values.typeName(v) + "'");
        }
        return v instanceof Boolean b ? (Object) (b ? 1L : 0L) : v;
    }

    static Object negate(Object v) {
        Object n = requireNumber(v, "-");
        return n instanceof Long l ? (Object) Math.negateExact(l) : (Object) (-(Double) n);
    }

    static Object arithmetic(String op, Object a, Object b) {
        if (op.equals("%") && a instanceof String fmt) { // Python printf-style formatting
            return PercentFormat.format(fmt, b);
        }
        defined(a);
        defined(b);
        if (Values.isNumber(a) && Values.isNumber(b)) {
            return Values.isInt(a) && Values.isInt(b) ? intOp(op, Values.asLong(a), Values.asLong(b))
                    : floatOp(op, Values.asDouble(a), Values.asDouble(b));
        }
        if (op.equals("+")) {
            if (a instanceof String sa && b instanceof String sb) {
                return sa + sb;
            }
            if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof Tuple) == (b instanceof Tuple)) {
                List<Object> out = new ArrayList<>(la);
                out.addAll(lb);
                return a instanceof Tuple ? new Tuple(out) : out;
            }
        }
        if (op.equals("*") && (Values.isInt(a) || Values.isInt(b))) {
            Object seq = Values.isInt(a) ? b : a;
            long n = Math.max(0, Values.asLong(Values.isInt(a) ? a : b));
            if (seq instanceof String s) {
                if (n * s.length() > 100_000_000L) {
                    throw new TemplateException("string repetition too large");
                }
                return s.repeat((int) n);
            }
            if (seq instanceof List<?> l) {
                List<Object> out = new ArrayList<>();
                for (long i = 0; i < n; i++) {
                    out.addAll(l);
                }
                return seq instanceof Tuple ? new Tuple(out) : out;
            }
        }
        throw new TemplateException("unsupported operand type(s) for " + op + ": '" + Values.typeName(a) + "' and '"
                + Values.typeName(b) + "'");
    }

    private static Object intOp(String op, long a, long b) {
        switch (op) {
            case "+":
                return Math.addExact(a, b);
            case "-":
                return Math.subtractExact(a, b);
            case "*":
                return Math.multiplyExact(a, b);
            case "/":
                if (b == 0) {
                    throw new TemplateException("division by zero");
                }
                return (double) a / (double) b;
            case "//":
                if (b == 0) {
                    throw new TemplateException("integer division or modulo by zero");
                }
                return Math.floorDiv(a, b);
            case "%":
                if (b == 0) {
                    throw new TemplateException("integer division or modulo by zero");
                }
                return Math.floorMod(a, b);
            case "**":
                if (b < 0) {
                    if (a == 0) {
                        throw new TemplateException("0.0 cannot be raised to a negative power");
                    }
                    return Math.pow(a, b);
                }
                if (a == 0 || a == 1) {
                    return b == 0 ? 1L : a;
                }
                if (a == -1) {
                    return b % 2 == 0 ? 1L : -1L;
                }
                long r = 1;
                for (long i = 0; i < b; i++) { // |a| >= 2: overflows within 63 steps
                    r = Math.multiplyExact(r, a);
                }
                return r;
            default:
                throw new IllegalStateException(op);
        }
    }

    /** CPython's float_divmod, so that {@code 1 // 0.1 == 9.0} and {@code -3 % 3.0 == 0.0} as in Python. */
    private static double[] floatDivmod(double vx, double wx) {
        double mod = vx % wx; // Java's % on doubles is C fmod
        double div = (vx - mod) / wx;
        if (mod != 0) {
            if ((wx < 0) != (mod < 0)) {
                mod += wx;
                div -= 1.0;
            }
        } else {
            mod = Math.copySign(0.0, wx);
        }
        double floordiv;
        if (div != 0) {
            floordiv = Math.floor(div);
            if (div - floordiv > 0.5) {
                floordiv += 1.0;
            }
        } else {
            floordiv = Math.copySign(0.0, vx / wx);
        }
        return new double[] {floordiv, mod};
    }

    private static Object floatOp(String op, double a, double b) {
        switch (op) {
            case "+":
                return a + b;
            case "-":
                return a - b;
            case "*":
                return a * b;
            case "/":
                if (b == 0) {
                    throw new TemplateException("float division by zero");
                }
                return a / b;
            case "//":
                if (b == 0) {
                    throw new TemplateException("float floor division by zero");
                }
                return floatDivmod(a, b)[0];
            case "%":
                if (b == 0) {
                    throw new TemplateException("float modulo");
                }
                return floatDivmod(a, b)[1];
            case "**": {
                if (a == 0 && b < 0) {
                    throw new TemplateException("0.0 cannot be raised to a negative power");
                }
                double r = Math.pow(a, b);
                if (Double.isInfinite(r) && !Double.isInfinite(a) && !Double.isInfinite(b)) {
                    throw new TemplateException("(34, 'Numerical result out of range')");
                }
                return r;
            }
            default:
                throw new IllegalStateException(op);
        }
    }
}
