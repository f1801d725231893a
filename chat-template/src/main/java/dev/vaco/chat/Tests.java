package dev.vaco.chat;

import dev.vaco.chat.Values.Callable;
import dev.vaco.chat.Values.Undefined;
import java.util.List;
import java.util.Map;

/** Jinja's built-in tests ({@code x is defined}, {@code n is even}, ...), as defined in {@code jinja2.tests}. */
final class Tests {
    private Tests() { }

    static boolean test(String name, Object v, List<Object> args) {
        switch (name) {
            case "defined":
                return !(v instanceof Undefined);
            case "undefined":
                return v instanceof Undefined;
            case "none":
                return v == null;
            case "string":
                return v instanceof String;
            case "mapping":
                return v instanceof Map;
            case "iterable":
                return Values.isIterable(v);
            case "sequence": // Jinja: has len() and __getitem__, so strings, dicts and Undefined qualify
                return v instanceof List || v instanceof String || v instanceof Map || v instanceof Undefined;
            case "number": // Python's bool is a Number
                return Values.isNumber(v);
            case "integer":
                return v instanceof Long;
            case "float":
                return v instanceof Double;
            case "boolean":
                return v instanceof Boolean;
            case "true":
                return Boolean.TRUE.equals(v);
            case "false":
                return Boolean.FALSE.equals(v);
            case "callable":
                return v instanceof Callable || v instanceof Interpreter.Loop;
            case "even": // value % 2 == 0, on any number
                return Values.eq(Access.arithmetic("%", v, 2L), 0L);
            case "odd":
                return Values.eq(Access.arithmetic("%", v, 2L), 1L);
            case "divisibleby":
                return Values.eq(Access.arithmetic("%", v, arg(args, name)), 0L);
            case "eq", "equalto", "==":
                return Values.eq(v, arg(args, name));
            case "ne", "!=":
                return !Values.eq(v, arg(args, name));
            case "lt", "lessthan", "<":
                return Values.compare(Access.defined(v), Access.defined(arg(args, name))) < 0;
            case "le", "<=":
                return Values.compare(Access.defined(v), Access.defined(arg(args, name))) <= 0;
            case "gt", "greaterthan", ">":
                return Values.compare(Access.defined(v), Access.defined(arg(args, name))) > 0;
            case "ge", ">=":
                return Values.compare(Access.defined(v), Access.defined(arg(args, name))) >= 0;
            case "in":
                return Values.contains(arg(args, name), v);
            case "sameas":
                return sameAs(v, arg(args, name));
            case "lower":
                return v instanceof String s && s.equals(s.toLowerCase(java.util.Locale.ROOT));
            case "upper":
                return v instanceof String s && s.equals(s.toUpperCase(java.util.Locale.ROOT));
            case "escaped":
                return false;
            case "filter":
                return Filters.exists(String.valueOf(arg(args, name)));
            case "test":
                return exists(String.valueOf(arg(args, name)));
            default:
                throw new TemplateException("no test named '" + name + "'");
        }
    }

    static boolean exists(String name) {
        return switch (name) {
            case "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer",
                 "float", "boolean", "true", "false", "callable", "even", "odd", "divisibleby", "eq", "equalto", "==",
                 "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas",
                 "lower", "upper", "escaped", "filter", "test" -> true;
            default -> false;
        };
    }

    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) {
            return a == b || (a != null && a.equals(b)); // None/True/False are singletons in Python
        }
        return a == b;
    }

    private static Object arg(List<Object> args, String test) {
        if (args.isEmpty()) {
            throw new TemplateException("test '" + test + "' needs an argument");
        }
        return args.get(0);
    }
}
