package dev.vaco.chat;

import dev.vaco.chat.Node.Expr;
import dev.vaco.chat.Values.Callable;
import dev.vaco.chat.Values.Namespace;
import dev.vaco.chat.Values.Tuple;
import dev.vaco.chat.Values.Undefined;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tree-walking evaluator. Scoping follows Jinja: each for-loop iteration, macro call and
 * {@code with} block gets a child scope, so a {@code set} inside a loop does not leak out (which is
 * why chat templates carry state across iterations with {@code namespace()}); {@code if} blocks do
 * not create scopes.
 *
 * <p>One instance per render; not thread-safe (the compiled {@link ChatTemplate} is).
 */
final class Interpreter {

    /** Macro/recursive-loop call depth limit: a template error instead of a StackOverflowError. */
    private static final int MAX_CALL_DEPTH = 100;

    static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        /** The value, or the {@link #MISSING} marker (a variable may hold None, i.e. null). */
        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                Object v = s.vars.get(name);
                if (v != null || s.vars.containsKey(name)) {
                    return v;
                }
            }
            return MISSING;
        }
    }

    private static final Object MISSING = new Object();

    /** Unwinds a loop body for break/continue; stackless because it is control flow, not an error. */
    private static final class LoopSignal extends RuntimeException {
        final boolean isBreak;

        LoopSignal(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    private static final LoopSignal BREAK = new LoopSignal(true);
    private static final LoopSignal CONTINUE = new LoopSignal(false);

    private int callDepth;

    String render(List<Node> template, Set<String> undefinedAtStart, Scope globals) {
        StringBuilder out = new StringBuilder();
        Scope root = new Scope(globals);
        for (String name : undefinedAtStart) {
            root.vars.put(name, new Undefined("'" + name + "' is undefined"));
        }
        try {
            execAll(template, root, out);
        } catch (StackOverflowError e) {
            throw new TemplateException("template recursion too deep");
        }
        return out.toString();
    }

    // ---- statements -------------------------------------------------------------------------

    void execAll(List<Node> nodes, Scope scope, StringBuilder out) {
        for (Node n : nodes) {
            exec(n, scope, out);
        }
    }

    private void exec(Node node, Scope scope, StringBuilder out) {
        if (node instanceof Node.Text t) {
            out.append(t.text());
            return;
        }
        int line = lineOf(node);
        try {
            execStatement(node, scope, out);
        } catch (TemplateException e) {
            throw e.line() == 0 && !e.raisedByTemplate() && line > 0 ? TemplateException.atLine(e, line) : e;
        } catch (ArithmeticException | ClassCastException | IndexOutOfBoundsException
                | IllegalArgumentException | UnsupportedOperationException e) {
            TemplateException te = new TemplateException(String.valueOf(e.getMessage()), e);
            throw line > 0 ? TemplateException.atLine(te, line) : te;
        }
    }

    private static int lineOf(Node n) {
        if (n instanceof Node.Output o) {
            return o.line();
        } else if (n instanceof Node.If i) {
            return i.line();
        } else if (n instanceof Node.For f) {
            return f.line();
        } else if (n instanceof Node.Set s) {
            return s.line();
        } else if (n instanceof Node.SetBlock s) {
            return s.line();
        } else if (n instanceof Node.CallBlock c) {
            return c.line();
        } else if (n instanceof Node.FilterBlock f) {
            return f.line();
        } else if (n instanceof Node.With w) {
            return w.line();
        }
        return 0;
    }

    private void execStatement(Node node, Scope scope, StringBuilder out) {
        if (node instanceof Node.Output o) {
            out.append(Values.str(eval(o.expr(), scope)));
        } else if (node instanceof Node.If n) {
            for (int i = 0; i < n.conditions().size(); i++) {
                if (Values.truthy(eval(n.conditions().get(i), scope))) {
                    execAll(n.bodies().get(i), scope, out);
                    return;
                }
            }
            execAll(n.elseBody(), scope, out);
        } else if (node instanceof Node.For f) {
            runFor(f, eval(f.iter(), scope), scope, out, 0);
        } else if (node instanceof Node.Set s) {
            assign(s.target(), eval(s.value(), scope), scope);
        } else if (node instanceof Node.SetBlock s) {
            StringBuilder body = new StringBuilder();
            execAll(s.body(), new Scope(scope), body);
            Object v = body.toString();
            for (Node.FilterCall fc : s.filters()) {
                v = applyFilter(fc, v, scope);
            }
            scope.vars.put(s.name(), v);
        } else if (node instanceof Node.Macro m) {
            scope.vars.put(m.name(), macro(m.params(), m.body(), scope));
        } else if (node instanceof Node.CallBlock c) {
            Callable caller = macro(c.callerParams(), c.body(), scope);
            List<Object> args = evalArgs(c.call().args(), scope);
            Map<String, Object> kwargs = evalKwargs(c.call().kwargs(), scope);
            kwargs.put("caller", caller);
            out.append(Values.str(call(eval(c.call().fn(), scope), args, kwargs)));
        } else if (node instanceof Node.FilterBlock f) {
            StringBuilder body = new StringBuilder();
            execAll(f.body(), new Scope(scope), body);
            Object v = body.toString();
            for (Node.FilterCall fc : f.filters()) {
                v = applyFilter(fc, v, scope);
            }
            out.append(Values.str(v));
        } else if (node instanceof Node.With w) {
            Scope inner = new Scope(scope);
            for (int i = 0; i < w.targets().size(); i++) {
                assign(w.targets().get(i), eval(w.values().get(i), scope), inner);
            }
            execAll(w.body(), inner, out);
        } else if (node instanceof Node.Block b) {
            execAll(b.body(), new Scope(scope), out); // HF compiles {% generation %} to a call block: own scope
        } else if (node instanceof Node.Break) {
            throw BREAK;
        } else if (node instanceof Node.Continue) {
            throw CONTINUE;
        } else if (node instanceof Expr e) {
            out.append(Values.str(eval(e, scope)));
        } else {
            throw new IllegalStateException("unknown node " + node);
        }
    }

    private void runFor(Node.For f, Object iterable, Scope scope, StringBuilder out, int depth) {
        List<Object> items = Values.iterate(iterable);
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope s = new Scope(scope);
                assign(f.target(), item, s);
                if (Values.truthy(eval(f.filter(), s))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            execAll(f.elseBody(), scope, out);
            return;
        }
        Loop loop = new Loop(items, depth);
        if (f.recursive()) {
            loop.recurse = (args, kw) -> {
                enterCall();
                try {
                    StringBuilder sub = new StringBuilder();
                    runFor(f, args.isEmpty() ? Values.UNDEFINED : args.get(0), scope, sub, depth + 1);
                    return sub.toString();
                } finally {
                    callDepth--;
                }
            };
        }
        for (int i = 0; i < items.size(); i++) {
            loop.index0 = i;
            Scope s = new Scope(scope);
            s.vars.put("loop", loop);
            assign(f.target(), items.get(i), s);
            try {
                execAll(f.body(), s, out);
            } catch (LoopSignal sig) {
                if (sig.isBreak) {
                    break;
                }
            }
        }
    }

    private void assign(Expr target, Object value, Scope scope) {
        if (target instanceof Node.Name n) {
            scope.vars.put(n.name(), value);
        } else if (target instanceof Node.TupleLit t) {
            List<Object> vals = Values.iterate(value);
            if (vals.size() != t.items().size()) {
                throw new TemplateException("cannot unpack " + vals.size() + " values into " + t.items().size()
                        + " names");
            }
            for (int i = 0; i < vals.size(); i++) {
                assign(t.items().get(i), vals.get(i), scope);
            }
        } else if (target instanceof Node.GetAttr g && g.obj() instanceof Node.Name ns) {
            Object obj = scope.lookup(ns.name());
            if (!(obj instanceof Namespace namespace)) {
                throw new TemplateException("cannot assign attribute on non-namespace object '" + ns.name() + "'");
            }
            namespace.attrs.put(g.name(), value);
        } else {
            throw new TemplateException("cannot assign to " + target);
        }
    }

    /** A macro (or a call block's {@code caller}) closing over the scope it was defined in. */
    private Callable macro(List<Node.Param> params, List<Node> body, Scope closure) {
        return (args, kwargs) -> {
            enterCall();
            try {
                Scope s = new Scope(closure);
                Map<String, Object> extra = new LinkedHashMap<>(kwargs);
                for (int i = 0; i < params.size(); i++) {
                    Node.Param p = params.get(i);
                    Object v;
                    if (i < args.size()) {
                        v = args.get(i);
                    } else if (extra.containsKey(p.name())) {
                        v = extra.remove(p.name());
                    } else if (p.defaultValue() != null) {
                        v = eval(p.defaultValue(), s);
                    } else {
                        v = new Undefined("parameter '" + p.name() + "' was not provided");
                    }
                    s.vars.put(p.name(), v);
                }
                s.vars.put("varargs", new Tuple(args.size() > params.size()
                        ? new ArrayList<>(args.subList(params.size(), args.size())) : List.of()));
                Object caller = extra.remove("caller");
                if (caller != null) {
                    s.vars.put("caller", caller);
                }
                s.vars.put("kwargs", new LinkedHashMap<Object, Object>(extra));
                StringBuilder out = new StringBuilder();
                execAll(body, s, out);
                return out.toString();
            } finally {
                callDepth--;
            }
        };
    }

    private void enterCall() {
        if (++callDepth > MAX_CALL_DEPTH) {
            callDepth--;
            throw new TemplateException("maximum macro recursion depth (" + MAX_CALL_DEPTH + ") exceeded");
        }
    }

    // ---- expressions ------------------------------------------------------------------------

    Object eval(Expr e, Scope scope) {
        if (e instanceof Node.Const c) {
            return c.value();
        } else if (e instanceof Node.Name n) {
            Object v = scope.lookup(n.name());
            return v == MISSING ? new Undefined("'" + n.name() + "' is undefined") : v;
        } else if (e instanceof Node.GetAttr g) {
            return Access.getattr(eval(g.obj(), scope), g.name());
        } else if (e instanceof Node.GetItem g) {
            Object obj = eval(g.obj(), scope);
            if (g.key() instanceof Node.Slice sl) {
                return Access.slice(obj, evalOpt(sl.start(), scope), evalOpt(sl.stop(), scope),
                        evalOpt(sl.step(), scope));
            }
            return Access.getitem(obj, eval(g.key(), scope));
        } else if (e instanceof Node.Call c) {
            return call(eval(c.fn(), scope), evalArgs(c.args(), scope), evalKwargs(c.kwargs(), scope));
        } else if (e instanceof Node.Filter f) {
            return applyFilter(f.filter(), eval(f.target(), scope), scope);
        } else if (e instanceof Node.Test t) {
            return Tests.test(t.name(), eval(t.target(), scope), evalArgs(t.args(), scope));
        } else if (e instanceof Node.Compare c) {
            Object left = eval(c.first(), scope);
            for (int i = 0; i < c.ops().size(); i++) {
                Object right = eval(c.rest().get(i), scope);
                if (!compare(c.ops().get(i), left, right)) {
                    return false;
                }
                left = right;
            }
            return true;
        } else if (e instanceof Node.Binary b) {
            return binary(b, scope);
        } else if (e instanceof Node.Unary u) {
            Object v = eval(u.operand(), scope);
            return switch (u.op()) {
                case "not" -> !Values.truthy(v);
                case "-" -> Access.negate(v);
                default -> Access.requireNumber(v, "+");
            };
        } else if (e instanceof Node.CondExpr c) {
            if (Values.truthy(eval(c.cond(), scope))) {
                return eval(c.then(), scope);
            }
            return c.otherwise() == null ? new Undefined("conditional expression had no else branch")
                    : eval(c.otherwise(), scope);
        } else if (e instanceof Node.ListLit l) {
            return new ArrayList<>(evalArgs(l.items(), scope));
        } else if (e instanceof Node.TupleLit t) {
            return new Tuple(evalArgs(t.items(), scope));
        } else if (e instanceof Node.DictLit d) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < d.keys().size(); i++) {
                m.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
            }
            return m;
        } else if (e instanceof Node.Slice) {
            throw new TemplateException("slice outside of a subscript");
        }
        throw new IllegalStateException("unknown expression " + e);
    }

    private Object evalOpt(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private List<Object> evalArgs(List<Expr> exprs, Scope scope) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Expr x : exprs) {
            out.add(eval(x, scope));
        }
        return out;
    }

    private Map<String, Object> evalKwargs(List<Node.Kwarg> kwargs, Scope scope) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Node.Kwarg k : kwargs) {
            out.put(k.name(), eval(k.value(), scope));
        }
        return out;
    }

    private Object applyFilter(Node.FilterCall fc, Object value, Scope scope) {
        return Filters.apply(fc.name(), value, evalArgs(fc.args(), scope), evalKwargs(fc.kwargs(), scope));
    }

    Object call(Object fn, List<Object> args, Map<String, Object> kwargs) {
        if (fn instanceof Callable c) {
            return c.call(args, kwargs);
        }
        if (fn instanceof Loop loop && loop.recurse != null) {
            return loop.recurse.call(args, kwargs);
        }
        if (fn instanceof Undefined u) {
            throw new TemplateException(u.hint + " (called as a function)");
        }
        throw new TemplateException("'" + Values.typeName(fn) + "' object is not callable");
    }

    private boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> Values.eq(a, b);
            case "!=" -> !Values.eq(a, b);
            case "<" -> Values.compare(Access.defined(a), Access.defined(b)) < 0;
            case "<=" -> Values.compare(Access.defined(a), Access.defined(b)) <= 0;
            case ">" -> Values.compare(Access.defined(a), Access.defined(b)) > 0;
            case ">=" -> Values.compare(Access.defined(a), Access.defined(b)) >= 0;
            case "in" -> Values.contains(b, a);
            case "notin" -> !Values.contains(b, a);
            default -> throw new IllegalStateException(op);
        };
    }

    private Object binary(Node.Binary b, Scope scope) {
        Object left = eval(b.left(), scope);
        switch (b.op()) {
            case "and":
                return Values.truthy(left) ? eval(b.right(), scope) : left;
            case "or":
                return Values.truthy(left) ? left : eval(b.right(), scope);
            case "~":
                return Values.str(left) + Values.str(eval(b.right(), scope));
            default:
                return Access.arithmetic(b.op(), left, eval(b.right(), scope));
        }
    }

    /** The {@code loop} variable of a for loop. */
    static final class Loop {
        final List<Object> items;
        final int depth;
        int index0;
        Callable recurse;
        private Object lastChanged = MISSING;

        Loop(List<Object> items, int depth) {
            this.items = items;
            this.depth = depth;
        }

        Object attr(String name) {
            int n = items.size();
            return switch (name) {
                case "index" -> (long) index0 + 1;
                case "index0" -> (long) index0;
                case "revindex" -> (long) (n - index0);
                case "revindex0" -> (long) (n - index0 - 1);
                case "first" -> index0 == 0;
                case "last" -> index0 == n - 1;
                case "length" -> (long) n;
                case "depth" -> (long) depth + 1;
                case "depth0" -> (long) depth;
                case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
                case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Undefined("there is no next item");
                case "cycle" -> (Callable) (args, kw) -> {
                    if (args.isEmpty()) {
                        throw new TemplateException("no items for cycling given");
                    }
                    return args.get(index0 % args.size());
                };
                case "changed" -> (Callable) (args, kw) -> {
                    Object now = new Tuple(args);
                    boolean changed = lastChanged == MISSING || !Values.eq(lastChanged, now);
                    lastChanged = now;
                    return changed;
                };
                default -> new Undefined("loop has no attribute '" + name + "'");
            };
        }
    }
}
