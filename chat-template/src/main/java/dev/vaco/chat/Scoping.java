package dev.vaco.chat;

import dev.vaco.chat.Node.Expr;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One static-scoping rule of Jinja's compiler that a dynamic scope chain does not give for free.
 *
 * <p>Jinja resolves names per frame at compile time. At the top level of a template, a name whose
 * first mention is an unconditional assignment ({@code {% set x = ... %}}, a block set, a macro
 * definition) becomes a template-local that starts out undefined. Loops and macros that run
 * before the assignment therefore see an undefined value, not a same-named variable from the
 * render context: in {@code {% for m in messages %}{{ x }}{% endfor %}{% set x = 1 %}} the loop
 * prints nothing even when the caller passed {@code x}. A name that is read first at the top level
 * (as in {@code {% set messages = messages[1:] %}}) or only assigned inside an {@code if} keeps
 * resolving from the context. This class finds the names of the first kind.
 */
final class Scoping {
    private Scoping() { }

    static Set<String> undefinedAtStart(List<Node> root) {
        Set<String> seen = new LinkedHashSet<>();
        Set<String> result = new LinkedHashSet<>();
        for (Node n : root) {
            visitRootStatement(n, seen, result, true);
        }
        return result;
    }

    private static void visitRootStatement(Node n, Set<String> seen, Set<String> result, boolean unconditional) {
        if (n instanceof Node.Output o) {
            loads(o.expr(), seen);
        } else if (n instanceof Node.Set s) {
            loads(s.value(), seen);
            if (s.target() instanceof Node.GetAttr g) {
                loads(g.obj(), seen);
            } else {
                for (String name : targetNames(s.target())) {
                    store(name, seen, result, unconditional);
                }
            }
        } else if (n instanceof Node.SetBlock s) {
            store(s.name(), seen, result, unconditional);
        } else if (n instanceof Node.Macro m) {
            store(m.name(), seen, result, unconditional);
        } else if (n instanceof Node.If i) {
            for (int k = 0; k < i.conditions().size(); k++) {
                loads(i.conditions().get(k), seen);
                for (Node b : i.bodies().get(k)) {
                    visitRootStatement(b, seen, result, false);
                }
            }
            for (Node b : i.elseBody()) {
                visitRootStatement(b, seen, result, false);
            }
        } else if (n instanceof Node.For f) {
            loads(f.iter(), seen); // target, filter and bodies belong to the loop's own frame
        } else if (n instanceof Node.CallBlock c) {
            loads(c.call(), seen);
        } else if (n instanceof Node.With w) {
            w.values().forEach(v -> loads(v, seen));
        }
        // FilterBlock / Block bodies are inner frames; Text, Break, Continue mention no names
    }

    private static void store(String name, Set<String> seen, Set<String> result, boolean unconditional) {
        if (seen.add(name) && unconditional) {
            result.add(name);
        }
    }

    private static List<String> targetNames(Expr target) {
        if (target instanceof Node.Name n) {
            return List.of(n.name());
        }
        if (target instanceof Node.TupleLit t) {
            return t.items().stream().flatMap(e -> targetNames(e).stream()).toList();
        }
        return List.of();
    }

    /** Marks every name an expression reads. */
    private static void loads(Expr e, Set<String> seen) {
        if (e == null) {
            return;
        }
        if (e instanceof Node.Name n) {
            seen.add(n.name());
        } else if (e instanceof Node.GetAttr g) {
            loads(g.obj(), seen);
        } else if (e instanceof Node.GetItem g) {
            loads(g.obj(), seen);
            loads(g.key(), seen);
        } else if (e instanceof Node.Slice s) {
            loads(s.start(), seen);
            loads(s.stop(), seen);
            loads(s.step(), seen);
        } else if (e instanceof Node.Call c) {
            loads(c.fn(), seen);
            c.args().forEach(a -> loads(a, seen));
            c.kwargs().forEach(k -> loads(k.value(), seen));
        } else if (e instanceof Node.Filter f) {
            loads(f.target(), seen);
            f.filter().args().forEach(a -> loads(a, seen));
            f.filter().kwargs().forEach(k -> loads(k.value(), seen));
        } else if (e instanceof Node.Test t) {
            loads(t.target(), seen);
            t.args().forEach(a -> loads(a, seen));
        } else if (e instanceof Node.Unary u) {
            loads(u.operand(), seen);
        } else if (e instanceof Node.Binary b) {
            loads(b.left(), seen);
            loads(b.right(), seen);
        } else if (e instanceof Node.Compare c) {
            loads(c.first(), seen);
            c.rest().forEach(r -> loads(r, seen));
        } else if (e instanceof Node.CondExpr c) {
            loads(c.cond(), seen);
            loads(c.then(), seen);
            loads(c.otherwise(), seen);
        } else if (e instanceof Node.ListLit l) {
            l.items().forEach(i -> loads(i, seen));
        } else if (e instanceof Node.TupleLit t) {
            t.items().forEach(i -> loads(i, seen));
        } else if (e instanceof Node.DictLit d) {
            d.keys().forEach(k -> loads(k, seen));
            d.values().forEach(v -> loads(v, seen));
        }
    }
}
