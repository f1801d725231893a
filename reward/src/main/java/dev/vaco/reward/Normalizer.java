package dev.vaco.reward;

import dev.vaco.reward.Expr.*;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites applied before comparison: equations that only name their value become the value, juxtaposed
 * matrices become their product, and \pm becomes the set of both signs.
 */
final class Normalizer {
    private static final int MAX_PM_EXPANSION = 64;

    private Normalizer() {
    }

    static boolean isEquation(Expr e) {
        return e instanceof Rel r && r.ops().size() == 1 && r.ops().get(0).equals("=");
    }

    /** "x = 3" -> 3, "x = 1+1 = 2" -> 2, "x \in [0,1]" -> [0,1], "x \approx 3" -> 3; lists element-wise. */
    static Expr reduce(Expr e, Deadline deadline) {
        deadline.check();
        if (e instanceof SetOf s) {
            List<Expr> items = new ArrayList<>(s.items().size());
            for (Expr i : s.items()) {
                items.add(reduce(i, deadline));
            }
            return new SetOf(items, s.braced());
        }
        if (e instanceof Mul m && m.factors().stream().anyMatch(f -> f instanceof Matrix)) {
            return matrixProduct(m);
        }
        if (e instanceof Add a && a.terms().stream().anyMatch(t -> t instanceof Matrix || t instanceof Mul m && m.factors().stream().anyMatch(f -> f instanceof Matrix))) {
            return matrixSum(a);
        }
        if (!(e instanceof Rel r)) {
            return e;
        }
        int approx = r.ops().indexOf("approx");
        if (approx >= 0) {
            List<Expr> left = r.operands().subList(0, approx + 1);
            List<String> leftOps = r.ops().subList(0, approx);
            if (left.size() == 1 && symbolLike(left.get(0))) {
                List<Expr> right = r.operands().subList(approx + 1, r.operands().size());
                List<String> rightOps = r.ops().subList(approx + 1, r.ops().size());
                return reduce(right.size() == 1 ? right.get(0) : new Rel(right, rightOps), deadline);
            }
            return reduce(left.size() == 1 ? left.get(0) : new Rel(left, leftOps), deadline);
        }
        if (r.ops().size() == 1 && r.ops().get(0).equals("in") && symbolLike(r.operands().get(0))) {
            return r.operands().get(1);
        }
        return e;
    }

    /** "A B" with matrices written side by side is their product; scalars scale. Non-conformable stays as is. */
    private static Expr matrixProduct(Mul m) {
        Matrix acc = null;
        List<Expr> scalars = new ArrayList<>();
        for (Expr f : m.factors()) {
            if (f instanceof Matrix x) {
                if (acc == null) {
                    acc = x;
                    continue;
                }
                int n = acc.rows().size();
                int k = x.rows().size();
                int cols = x.rows().get(0).size();
                if (acc.rows().stream().anyMatch(r -> r.size() != k) || x.rows().stream().anyMatch(r -> r.size() != cols)
                        || (long) n * cols * k > 10_000) {
                    return m;
                }
                List<List<Expr>> rows = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    List<Expr> row = new ArrayList<>();
                    for (int j = 0; j < cols; j++) {
                        List<Expr> terms = new ArrayList<>();
                        for (int t = 0; t < k; t++) {
                            terms.add(new Mul(List.of(acc.rows().get(i).get(t), x.rows().get(t).get(j))));
                        }
                        row.add(new Add(terms));
                    }
                    rows.add(row);
                }
                acc = new Matrix(rows);
            } else if (f instanceof Num || f instanceof Sym || f instanceof Pow || f instanceof Fn || f instanceof Add) {
                scalars.add(f);
            } else {
                return m;
            }
        }
        if (acc == null || acc.rows().isEmpty()) {
            return m;
        }
        if (scalars.isEmpty()) {
            return acc;
        }
        List<List<Expr>> rows = new ArrayList<>();
        for (List<Expr> r : acc.rows()) {
            List<Expr> row = new ArrayList<>();
            for (Expr c : r) {
                List<Expr> fs = new ArrayList<>(scalars);
                fs.add(c);
                row.add(new Mul(fs));
            }
            rows.add(row);
        }
        return new Matrix(rows);
    }

    /**
     * A sum of matrices left undone, "A + B" (each term possibly a scalar times a matrix), is the matrix of the
     * element-wise sums; terms of different shapes leave the sum as written.
     */
    private static Expr matrixSum(Add a) {
        List<Matrix> terms = new ArrayList<>();
        for (Expr t : a.terms()) {
            Expr m = t instanceof Mul mul ? matrixProduct(mul) : t;
            if (!(m instanceof Matrix x) || x.rows().isEmpty()) {
                return a;
            }
            terms.add(x);
        }
        Matrix first = terms.get(0);
        List<List<Expr>> rows = new ArrayList<>();
        for (int i = 0; i < first.rows().size(); i++) {
            List<Expr> row = new ArrayList<>();
            for (int j = 0; j < first.rows().get(i).size(); j++) {
                List<Expr> cell = new ArrayList<>();
                for (Matrix x : terms) {
                    if (x.rows().size() != first.rows().size() || x.rows().get(i).size() != first.rows().get(i).size()) {
                        return a;
                    }
                    cell.add(x.rows().get(i).get(j));
                }
                row.add(new Add(cell));
            }
            rows.add(row);
        }
        return new Matrix(rows);
    }

    /**
     * A left side that names the answer rather than constrains it (Math-Verify: built from symbols alone, no
     * number in it): x, a_3, f(x), (p,q), x + y, a/b, S_1:S. "2x" and "x^2" hold numbers, so they constrain.
     */
    static boolean symbolLike(Expr e) {
        if (e instanceof Sym s) {
            return !s.name().equals("pi") && !s.name().equals("inf");
        }
        if (e instanceof Add a) {
            return a.terms().stream().allMatch(Normalizer::symbolLike);
        }
        if (e instanceof Tuple t) {
            return t.items().stream().allMatch(Normalizer::symbolLike);
        }
        if (e instanceof Mul m) {
            return m.factors().stream().allMatch(f -> symbolLike(f) || f instanceof Pow p && symbolLike(p.base())
                    && p.exp() instanceof Num n && n.value().equals(Rational.of(-1)));
        }
        if (e instanceof Fn f) {
            return f.args().stream().allMatch(Normalizer::symbolLike);
        }
        return false;
    }

    static boolean containsPm(Expr e) {
        if (e instanceof PlusMinus) {
            return true;
        }
        if (e instanceof Add a) {
            return a.terms().stream().anyMatch(Normalizer::containsPm);
        }
        if (e instanceof Mul m) {
            return m.factors().stream().anyMatch(Normalizer::containsPm);
        }
        if (e instanceof SetOf s) {
            return s.items().stream().anyMatch(Normalizer::containsPm);
        }
        return false;
    }

    /** All sign choices; a set's items are expanded in place ({1 \pm \sqrt 5, -2} has three members). */
    static List<Expr> expandPm(Expr e) {
        if (e instanceof PlusMinus pm) {
            List<Expr> out = new ArrayList<>();
            for (Expr a : expandPm(pm.a())) {
                for (Expr b : expandPm(pm.b())) {
                    out.add(new Add(List.of(a, b)));
                    out.add(new Add(List.of(a, Expr.neg(b))));
                }
            }
            return cap(out);
        }
        if (e instanceof SetOf s) {
            List<Expr> out = new ArrayList<>();
            for (Expr i : s.items()) {
                out.addAll(expandPm(i));
            }
            return out;
        }
        if (e instanceof Add || e instanceof Mul) {
            List<Expr> parts = e instanceof Add a ? a.terms() : ((Mul) e).factors();
            List<List<Expr>> combos = List.of(List.of());
            for (Expr part : parts) {
                List<List<Expr>> next = new ArrayList<>();
                for (List<Expr> c : combos) {
                    for (Expr alt : expandPm(part)) {
                        List<Expr> n = new ArrayList<>(c);
                        n.add(alt);
                        next.add(n);
                    }
                }
                combos = cap(next);
            }
            List<Expr> out = new ArrayList<>();
            for (List<Expr> c : combos) {
                out.add(e instanceof Add ? new Add(c) : new Mul(c));
            }
            return out;
        }
        return List.of(e);
    }

    private static <T> List<T> cap(List<T> l) {
        if (l.size() > MAX_PM_EXPANSION) {
            throw new LimitExceededException("more than " + MAX_PM_EXPANSION + " sign combinations");
        }
        return l;
    }
}
