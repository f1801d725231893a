package dev.vaco.reward;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Whether two equations d1 = 0 and d2 = 0 in the same two or more variables have the same solutions, which is what
 * Math-Verify checks by solving both. Numerically, with fixed seeds: either d1 and d2 are proportional (linear
 * equations, one a multiple of the other), or, along one variable with the others at random values, every root of
 * one is a root of the other and roots exist ({@code a/b - 1/2} and {@code b/a - 2} share the line a = b/2).
 */
final class SolutionSets {
    private static final long SEED = 0x50175L;
    /** Where roots are looked for along the chosen variable, in steps of {@link #STEP}. */
    private static final double SPAN = 12;
    private static final double STEP = 0.37;
    private static final int LINES = 4;
    private static final double ROOT_TOL = 1e-7;

    private final Evaluator eval;

    SolutionSets(Evaluator eval) {
        this.eval = eval;
    }

    boolean same(Expr d1, Expr d2) {
        return proportional(d1, d2) || sameRoots(d1, d2);
    }

    /** d1 = c * d2 for one constant c at every sample point. */
    private boolean proportional(Expr d1, Expr d2) {
        Set<String> vars = new TreeSet<>(Evaluator.variables(d1));
        SplittableRandom rnd = new SplittableRandom(SEED);
        Double ratio = null;
        int valid = 0;
        for (int k = 0; k < Equivalence.SAMPLE_POINTS; k++) {
            Map<String, Double> point = Equivalence.randomPoint(vars, rnd, k);
            double v1 = eval.numeric(d1, point);
            double v2 = eval.numeric(d2, point);
            if (!Double.isFinite(v1) || !Double.isFinite(v2)) {
                continue;
            }
            if (Math.abs(v1) < 1e-12 && Math.abs(v2) < 1e-12) {
                valid++;
                continue;
            }
            if (Math.abs(v2) < 1e-12 || Math.abs(v1) < 1e-12) {
                return false;
            }
            double r = v1 / v2;
            if (ratio == null) {
                ratio = r;
            } else if (!Equivalence.close(ratio, r, Equivalence.SYMBOLIC_TOL)) {
                return false;
            }
            valid++;
        }
        return valid > 0;
    }

    private boolean sameRoots(Expr d1, Expr d2) {
        List<String> vars = new ArrayList<>(new TreeSet<>(Evaluator.variables(d1)));
        String along = vars.get(0);
        SplittableRandom rnd = new SplittableRandom(SEED);
        int roots = 0;
        for (int line = 0; line < LINES; line++) {
            Map<String, Double> point = Equivalence.randomPoint(new TreeSet<>(vars.subList(1, vars.size())), rnd, line);
            List<Double> r1 = roots(d1, point, along);
            List<Double> r2 = roots(d2, point, along);
            for (double r : r1) {
                if (!isRoot(d2, point, along, r)) {
                    return false;
                }
            }
            for (double r : r2) {
                if (!isRoot(d1, point, along, r)) {
                    return false;
                }
            }
            roots += r1.size() + r2.size();
        }
        return roots > 0;
    }

    /** Sign changes on a grid, refined by bisection; a pole also changes sign, so only points where d is ~0 count. */
    private List<Double> roots(Expr d, Map<String, Double> point, String along) {
        List<Double> out = new ArrayList<>();
        double prevX = -SPAN;
        double prev = at(d, point, along, prevX);
        for (double x = -SPAN + STEP; x <= SPAN; x += STEP) {
            double v = at(d, point, along, x);
            if (Double.isFinite(prev) && Double.isFinite(v) && (prev == 0 || Math.signum(prev) != Math.signum(v))) {
                double lo = prevX;
                double hi = x;
                for (int i = 0; i < 60; i++) {
                    double mid = (lo + hi) / 2;
                    double m = at(d, point, along, mid);
                    if (!Double.isFinite(m) || Math.signum(m) == Math.signum(at(d, point, along, lo))) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                double root = (lo + hi) / 2;
                if (isRoot(d, point, along, root)) {
                    out.add(root);
                }
            }
            prevX = x;
            prev = v;
        }
        return out;
    }

    private boolean isRoot(Expr d, Map<String, Double> point, String along, double x) {
        double eps = ROOT_TOL * (1 + Math.abs(x));
        double v = at(d, point, along, x);
        if (Double.isFinite(v) && Math.abs(v) < ROOT_TOL) {
            return true;
        }
        double a = at(d, point, along, x - eps);
        double b = at(d, point, along, x + eps);
        // a sign change across a tiny interval with small values on both sides, not a pole
        return Double.isFinite(a) && Double.isFinite(b) && Math.signum(a) != Math.signum(b) && Math.abs(a) + Math.abs(b) < 1e-3;
    }

    private double at(Expr d, Map<String, Double> point, String along, double x) {
        Map<String, Double> p = new java.util.HashMap<>(point);
        p.put(along, x);
        return eval.numeric(d, p);
    }
}
