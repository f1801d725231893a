package dev.vaco.reward;

import dev.vaco.reward.Expr.*;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Variables matched by position (Math-Verify's {@code strict=False}): the prediction's free variables, in order,
 * become the gold's, through every container, so {@code f(x) = 2x} equals {@code f(a) = 2a}.
 */
final class Renaming {
    private Renaming() {
    }

    /** The free variables of any answer, containers included, in name order. */
    static Set<String> variables(Expr e) {
        Set<String> out = new TreeSet<>();
        for (Expr part : parts(e)) {
            out.addAll(Evaluator.variables(part));
        }
        return out;
    }

    /**
     * The prediction with its variables renamed to the gold's, or unchanged when their numbers differ. Names both
     * sides use stay (a function name such as f in f(x) is one: upstream does not count it as a variable); the
     * others pair up in name order.
     */
    static Expr toGold(Expr gold, Expr pred) {
        Set<String> vg = variables(gold);
        Set<String> vp = variables(pred);
        if (vg.size() != vp.size() || vg.equals(vp)) {
            return pred;
        }
        Set<String> onlyGold = new TreeSet<>(vg);
        onlyGold.removeAll(vp);
        Set<String> onlyPred = new TreeSet<>(vp);
        onlyPred.removeAll(vg);
        return rename(pred, onlyPred, onlyGold);
    }

    static Expr rename(Expr e, Set<String> from, Set<String> to) {
        Map<String, String> m = new HashMap<>();
        Iterator<String> t = to.iterator();
        for (String f : from) {
            m.put(f, t.next());
        }
        return substitute(e, m);
    }

    private static List<Expr> parts(Expr e) {
        if (e instanceof Rel r) {
            return r.operands().stream().flatMap(x -> parts(x).stream()).toList();
        }
        if (e instanceof SetOf s) {
            return s.items().stream().flatMap(x -> parts(x).stream()).toList();
        }
        if (e instanceof Tuple t) {
            return t.items().stream().flatMap(x -> parts(x).stream()).toList();
        }
        if (e instanceof Interval i) {
            return List.of(i.lo(), i.hi());
        }
        if (e instanceof Union u) {
            return u.parts().stream().flatMap(x -> parts(x).stream()).toList();
        }
        if (e instanceof Matrix m) {
            return m.rows().stream().flatMap(List::stream).toList();
        }
        return List.of(e);
    }

    private static List<Expr> all(List<Expr> xs, Map<String, String> m) {
        List<Expr> out = new ArrayList<>(xs.size());
        for (Expr x : xs) {
            out.add(substitute(x, m));
        }
        return out;
    }

    private static Expr substitute(Expr e, Map<String, String> m) {
        if (e instanceof Sym s) {
            return new Sym(m.getOrDefault(s.name(), s.name()));
        }
        if (e instanceof Add a) {
            return new Add(all(a.terms(), m));
        }
        if (e instanceof Mul a) {
            return new Mul(all(a.factors(), m));
        }
        if (e instanceof Pow p) {
            return new Pow(substitute(p.base(), m), substitute(p.exp(), m));
        }
        if (e instanceof Fn f) {
            return new Fn(f.name(), all(f.args(), m));
        }
        if (e instanceof PlusMinus pm) {
            return new PlusMinus(substitute(pm.a(), m), substitute(pm.b(), m));
        }
        if (e instanceof Rel r) {
            return new Rel(all(r.operands(), m), r.ops());
        }
        if (e instanceof SetOf s) {
            return new SetOf(all(s.items(), m), s.braced());
        }
        if (e instanceof Tuple t) {
            return new Tuple(all(t.items(), m));
        }
        if (e instanceof Interval i) {
            return new Interval(substitute(i.lo(), m), substitute(i.hi(), m), i.loClosed(), i.hiClosed());
        }
        if (e instanceof Union u) {
            return new Union(all(u.parts(), m));
        }
        if (e instanceof Matrix mx) {
            List<List<Expr>> rows = new ArrayList<>();
            for (List<Expr> row : mx.rows()) {
                rows.add(all(row, m));
            }
            return new Matrix(rows);
        }
        return e;
    }
}
