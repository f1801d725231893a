package dev.vaco.reward;

import dev.vaco.reward.Expr.*;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Decides whether a predicted answer equals the gold one.
 *
 * <p>Shape: {@link Normalizer} unwraps equations whose left side is just a name ("x = 3" is "3") and expands
 * \pm into sets; then compare containers structurally (sets unordered, tuples/matrices ordered, intervals by ends and closedness,
 * relations link by link) and scalars exactly when both are rational, numerically otherwise.
 * Numeric checks use fixed seeds so a verdict never depends on the run.
 */
final class Equivalence {
    private static final java.util.regex.Pattern NOT_ALNUM = java.util.regex.Pattern.compile("[^a-z0-9]");
    /** Relative tolerance for exact-but-irrational comparisons (sqrt, pi, variables at random points). */
    static final double SYMBOLIC_TOL = 1e-9;
    /** The first {@link #POSITIVE_POINTS} are positive (sqrt/log stay real), the rest negative (|x| is not x). */
    static final int SAMPLE_POINTS = 12;
    static final int POSITIVE_POINTS = 8;
    /** Points where both sides are finite needed before "equal" is believed. */
    static final int MIN_VALID_POINTS = 3;
    private static final long SEED = 0x5EEDL;
    private static final int MAX_SEMANTIC_DEDUPE = 64;

    private final VerifierConfig config;
    private final Deadline deadline;
    private final Evaluator eval;

    Equivalence(VerifierConfig config, Deadline deadline) {
        this.config = config;
        this.deadline = deadline;
        this.eval = new Evaluator(deadline);
    }

    boolean equivalent(Expr gold, Expr pred) {
        Expr g = Normalizer.reduce(gold, deadline);
        Expr p = Normalizer.reduce(pred, deadline);
        // Math-Verify's strict=False renames before anything else, relations and containers included
        return eq(g, config.strictVariables() ? p : Renaming.toGold(g, p));
    }

    // ---- structural comparison ----

    private boolean eq(Expr g0, Expr p0) {
        deadline.check();
        Assignments.Pair oriented = Assignments.orient(g0, p0);
        Expr g = oriented.gold();
        Expr p = oriented.pred();
        if (g.equals(p) && !(g instanceof Text)) {
            return true;
        }
        if (Normalizer.containsPm(g)) {
            g = new SetOf(Normalizer.expandPm(g), false);
        }
        if (Normalizer.containsPm(p)) {
            p = new SetOf(Normalizer.expandPm(p), false);
        }
        if (g instanceof Text || p instanceof Text) {
            return textKey(g) != null && textKey(g).equals(textKey(p));
        }
        if (g instanceof SetOf gs && p instanceof SetOf ps) {
            boolean ordered = config.orderedLists() && !gs.braced() && !ps.braced();
            return ordered ? pairwise(gs.items(), ps.items()) : unordered(gs.items(), ps.items());
        }
        if (g instanceof SetOf gs && p instanceof Tuple pt) {
            // a gold set against a written tuple: the members, in any order
            return unordered(gs.items(), pt.items());
        }
        if (g instanceof Tuple gt && p instanceof SetOf ps) {
            // a gold tuple against a set: the set in the order written, "(9, 7)" vs "x = 9, y = 7" or "\\{9, 7\\}"
            return pairwise(gt.items(), ps.items());
        }
        if (g instanceof SetOf gs && !(p instanceof SetOf)) {
            List<Expr> items = dedupe(gs.items());
            return items.size() == 1 && eq(items.get(0), p);
        }
        if (p instanceof SetOf ps && !(g instanceof SetOf)) {
            // "15\frac{39}{40}, or \frac{639}{40}" states one value twice
            List<Expr> items = dedupe(ps.items());
            return items.size() == 1 && eq(g, items.get(0));
        }
        if (g instanceof SetOf || p instanceof SetOf) {
            return false;
        }
        if (g instanceof Tuple gt && p instanceof Tuple pt) {
            return pairwise(gt.items(), pt.items());
        }
        if (g instanceof Interval || p instanceof Interval || g instanceof Union || p instanceof Union
                || g instanceof Rel && p instanceof Tuple || g instanceof Tuple && p instanceof Rel) {
            return setLikeEq(g, p);
        }
        if (g instanceof Matrix gm && p instanceof Matrix pm) {
            if (gm.rows().size() != pm.rows().size()) {
                return false;
            }
            for (int i = 0; i < gm.rows().size(); i++) {
                if (!pairwise(gm.rows().get(i), pm.rows().get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (g instanceof Rel gr && p instanceof Rel pr) {
            return relEq(gr, pr);
        }
        if (isScalar(g) && isScalar(p)) {
            return scalarEq(g, p);
        }
        return false;
    }

    private static boolean isScalar(Expr e) {
        return e instanceof Num || e instanceof Sym || e instanceof Add || e instanceof Mul || e instanceof Pow || e instanceof Fn;
    }

    private boolean pairwise(List<Expr> a, List<Expr> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!eq(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** Multiset match; tries the aligned position first so an already-ordered answer costs O(n). */
    private boolean unordered(List<Expr> a0, List<Expr> b0) {
        // sets: a repeated member counts once (structural equality of the records is enough here)
        List<Expr> a = new ArrayList<>(new java.util.LinkedHashSet<>(a0));
        List<Expr> b = new ArrayList<>(new java.util.LinkedHashSet<>(b0));
        if (a.size() != b.size()) {
            a = dedupe(a);
            b = dedupe(b);
        }
        if (a.size() != b.size()) {
            return false;
        }
        if (allExactNumbers(a) && allExactNumbers(b)) {
            // integer/fraction sets: sort instead of the quadratic matching below
            return sortedValues(a).equals(sortedValues(b));
        }
        List<Expr> pool = new ArrayList<>(b);
        for (int i = 0; i < a.size(); i++) {
            Expr g = a.get(i);
            boolean found = false;
            Iterator<Expr> it = pool.iterator();
            while (it.hasNext()) {
                Expr p = it.next();
                if (eq(g, p)) {
                    it.remove();
                    found = true;
                    break;
                }
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    private static boolean allExactNumbers(List<Expr> items) {
        return items.stream().allMatch(e -> e instanceof Num n && !n.approx());
    }

    private static List<Rational> sortedValues(List<Expr> items) {
        return items.stream().map(e -> ((Num) e).value()).sorted().toList();
    }

    /** Members equal by value collapse to one; quadratic, so only small lists are checked beyond structure. */
    private List<Expr> dedupe(List<Expr> items) {
        List<Expr> distinct = new ArrayList<>(new java.util.LinkedHashSet<>(items));
        if (distinct.size() > MAX_SEMANTIC_DEDUPE) {
            return distinct;
        }
        List<Expr> out = new ArrayList<>();
        for (Expr e : distinct) {
            boolean seen = false;
            for (Expr o : out) {
                if (eq(o, e)) {
                    seen = true;
                    break;
                }
            }
            if (!seen) {
                out.add(e);
            }
        }
        return out;
    }

    private static String textKey(Expr e) {
        if (e instanceof Text t) {
            return NOT_ALNUM.matcher(t.text().toLowerCase()).replaceAll("");
        }
        if (e instanceof Sym s) {
            return NOT_ALNUM.matcher(s.name().toLowerCase()).replaceAll("");
        }
        if (e instanceof Num n && !n.approx()) {
            return n.value().toString();
        }
        return null;
    }

    // ---- intervals and relations ----

    private boolean setLikeEq(Expr g, Expr p) {
        Expr gi = asSet(g, true);
        Expr pi = asSet(p, config.setRelationInPred());
        if (gi == null || pi == null) {
            return false;
        }
        if (gi instanceof Union gu && pi instanceof Union pu) {
            return unionEq(gu.parts(), pu.parts());
        }
        if (gi instanceof Interval a && pi instanceof Interval b) {
            return a.loClosed() == b.loClosed() && a.hiClosed() == b.hiClosed()
                    && eq(a.lo(), b.lo()) && eq(a.hi(), b.hi());
        }
        return false;
    }

    private boolean unionEq(List<Expr> a, List<Expr> b) {
        if (a.size() != b.size()) {
            return false;
        }
        List<Expr> pool = new ArrayList<>(b);
        for (Expr g : a) {
            boolean found = false;
            for (Iterator<Expr> it = pool.iterator(); it.hasNext(); ) {
                if (setLikeEq(g, it.next())) {
                    it.remove();
                    found = true;
                    break;
                }
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    /** Interval view of a tuple (a,b), an interval, a union, or (when allowed) a one-variable inequality. */
    private Expr asSet(Expr e, boolean relationsAllowed) {
        if (e instanceof Interval || e instanceof Union) {
            return e;
        }
        if (e instanceof Tuple t && t.items().size() == 2) {
            return new Interval(t.items().get(0), t.items().get(1), false, false);
        }
        if (e instanceof Rel r && relationsAllowed) {
            return relationToInterval(r);
        }
        return null;
    }

    private Expr relationToInterval(Rel r) {
        List<Expr> ops = new ArrayList<>(r.operands());
        List<String> os = new ArrayList<>(r.ops());
        if (os.stream().allMatch(o -> o.equals(">") || o.equals(">="))) {
            java.util.Collections.reverse(ops);
            java.util.Collections.reverse(os);
            os.replaceAll(o -> o.equals(">") ? "<" : "<=");
        }
        if (!os.stream().allMatch(o -> o.equals("<") || o.equals("<="))) {
            return null;
        }
        Sym inf = new Sym("inf");
        if (os.size() == 2 && ops.get(1) instanceof Sym && Evaluator.variables(ops.get(0)).isEmpty()
                && Evaluator.variables(ops.get(2)).isEmpty()) {
            return new Interval(ops.get(0), ops.get(2), os.get(0).equals("<="), os.get(1).equals("<="));
        }
        if (os.size() == 1) {
            boolean closed = os.get(0).equals("<=");
            if (ops.get(0) instanceof Sym && Evaluator.variables(ops.get(1)).isEmpty()) {
                return new Interval(Expr.neg(inf), ops.get(1), false, closed);
            }
            if (ops.get(1) instanceof Sym && Evaluator.variables(ops.get(0)).isEmpty()) {
                return new Interval(ops.get(0), inf, closed, false);
            }
        }
        return null;
    }

    /**
     * Math-Verify's relation rule: chains compare link by link in the order written ({@code 1 < x < 3} is not
     * {@code 3 > x > 1}); one link equals another with the same sign and the same lhs - rhs, or the mirrored sign
     * and the opposite difference ({@code x > 2} is {@code 2 < x}); two equations in the same two or more variables
     * also when they have the same solutions (Math-Verify solves them: {@code x + y = 5} is {@code y = 5 - x}, and
     * {@code \\frac{a}{b} = \\frac12} is {@code \\frac{b}{a} = 2}).
     * Scaling a one-variable relation is not the same answer ({@code x = 5} vs {@code 2x = 10}).
     */
    private boolean relEq(Rel a, Rel b) {
        if (a.ops().size() != b.ops().size()) {
            return false;
        }
        for (int i = 0; i < a.ops().size(); i++) {
            Rel la = new Rel(a.operands().subList(i, i + 2), List.of(a.ops().get(i)));
            Rel lb = new Rel(b.operands().subList(i, i + 2), List.of(b.ops().get(i)));
            if (!linkEq(la, lb)) {
                return false;
            }
        }
        return true;
    }

    private boolean linkEq(Rel a, Rel b) {
        String x = a.ops().get(0);
        String y = b.ops().get(0);
        Expr da = difference(a);
        Expr db = difference(b);
        if (!isScalar(a.operands().get(0)) || !isScalar(a.operands().get(1))
                || !isScalar(b.operands().get(0)) || !isScalar(b.operands().get(1))) {
            return x.equals(y) && pairwise(a.operands(), b.operands());
        }
        if (x.equals(y) && scalarEq(da, db)) {
            return true;
        }
        if (mirrored(x).equals(y) && scalarEq(da, Expr.neg(db))) {
            return true;
        }
        return x.equals("=") && y.equals("=") && Evaluator.variables(da).size() >= 2
                && Evaluator.variables(da).equals(Evaluator.variables(db)) && new SolutionSets(eval).same(da, db);
    }

    private static String mirrored(String op) {
        return switch (op) {
            case "<" -> ">";
            case ">" -> "<";
            case "<=" -> ">=";
            case ">=" -> "<=";
            case "=" -> "=";
            default -> "";
        };
    }

    private static Expr difference(Rel r) {
        return new Add(List.of(r.operands().get(1), Expr.neg(r.operands().get(0))));
    }

    static Map<String, Double> randomPoint(Set<String> vars, SplittableRandom rnd, int k) {
        Map<String, Double> m = new HashMap<>();
        double sign = k < POSITIVE_POINTS ? 1 : -1;
        for (String v : vars) {
            // magnitudes in [0.3, 2.7]: away from 0 and 1 so that x^a and log x are not degenerate
            m.put(v, sign * (0.3 + 2.4 * rnd.nextDouble()));
        }
        return m;
    }

    // ---- scalars ----

    private boolean scalarEq(Expr g, Expr p) {
        Set<String> vg = Evaluator.variables(g);
        Set<String> vp = Evaluator.variables(p);
        if (!vg.equals(vp)) {
            if (config.strictVariables() || vg.size() != vp.size()) {
                return false;
            }
            p = Renaming.rename(p, vp, vg);
            vp = vg;
        }
        boolean approx = Evaluator.hasApprox(g) || Evaluator.hasApprox(p);
        if (vg.isEmpty()) {
            Rational a = eval.exact(g);
            Rational b = eval.exact(p);
            // an integer is never rounded (Math-Verify: 4 is 4.0 but not 4.0000001, while 1/2 is 0.5000001)
            if (a != null && b != null && (a.equals(b) || !approx || a.isInteger() || b.isInteger())) {
                return a.equals(b);
            }
            double x = eval.numeric(g, Map.of());
            double y = eval.numeric(p, Map.of());
            if (Double.isInfinite(x) || Double.isInfinite(y)) {
                // overflow says nothing about equality (2^2^2^100 vs 2^2^2^101); only a literal \infty matches itself
                return g.equals(p) && isLiteralInfinity(g);
            }
            return numericEq(x, y, approx);
        }
        SplittableRandom rnd = new SplittableRandom(SEED);
        int valid = 0;
        for (int k = 0; k < SAMPLE_POINTS; k++) {
            Map<String, Double> point = randomPoint(vg, rnd, k);
            double x = eval.numeric(g, point);
            double y = eval.numeric(p, point);
            if (!Double.isFinite(x) || !Double.isFinite(y)) {
                // outside one side's real domain: (sqrt x)^2 and x agree wherever both are defined
                continue;
            }
            if (!numericEq(x, y, approx)) {
                return false;
            }
            valid++;
        }
        return valid >= MIN_VALID_POINTS;
    }

    private static boolean isLiteralInfinity(Expr e) {
        return e instanceof Sym s && s.name().equals("inf")
                || e instanceof Mul m && m.factors().size() == 2 && m.factors().get(0).equals(Expr.num(-1)) && isLiteralInfinity(m.factors().get(1));
    }

    private boolean numericEq(double x, double y, boolean approx) {
        if (Double.isNaN(x) || Double.isNaN(y)) {
            return false;
        }
        if (Double.isInfinite(x) || Double.isInfinite(y)) {
            return x == y;
        }
        if (close(x, y, SYMBOLIC_TOL)) {
            return true;
        }
        if (!approx) {
            return false;
        }
        if (close(x, y, config.floatRelTol())) {
            return true;
        }
        return round(x).compareTo(round(y)) == 0;
    }

    private BigDecimal round(double v) {
        return new BigDecimal(v).setScale(config.floatRounding(), RoundingMode.HALF_UP);
    }

    static boolean close(double a, double b, double rel) {
        return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-15;
    }
}
