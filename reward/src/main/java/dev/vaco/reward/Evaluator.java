package dev.vaco.reward;

import dev.vaco.reward.Expr.*;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Exact (rational) and numeric (double) evaluation of scalar expressions, both capped and deadline-aware. */
final class Evaluator {
    /** Integer exponents beyond this are not expanded exactly (2^(2^100) must not be attempted). */
    static final int MAX_EXACT_EXPONENT = 100_000;
    static final int MAX_EXACT_FACTORIAL = 2_000;

    private final Deadline deadline;

    Evaluator(Deadline deadline) {
        this.deadline = deadline;
    }

    /** The exact value, or null when the expression is not a rational constant (symbols, irrationals, caps hit). */
    Rational exact(Expr e) {
        deadline.check();
        try {
            return exactOrThrow(e);
        } catch (LimitExceededException ex) {
            if (ex instanceof DeadlineExceededException) {
                throw ex;
            }
            return null;
        } catch (ArithmeticException ex) {
            return null;
        }
    }

    private Rational exactOrThrow(Expr e) {
        deadline.check();
        if (e instanceof Num n) {
            return n.value();
        }
        if (e instanceof Add a) {
            Rational r = Rational.ZERO;
            for (Expr t : a.terms()) {
                Rational v = exactOrThrow(t);
                if (v == null) {
                    return null;
                }
                r = r.add(v);
            }
            return r;
        }
        if (e instanceof Mul m) {
            Rational r = Rational.ONE;
            for (Expr t : m.factors()) {
                Rational v = exactOrThrow(t);
                if (v == null) {
                    return null;
                }
                r = r.multiply(v);
            }
            return r;
        }
        if (e instanceof Pow p) {
            return exactPow(p);
        }
        if (e instanceof Fn f) {
            return exactFn(f);
        }
        return null;
    }

    /** Integer powers exactly (capped), half-integer powers when the base is a perfect square; else null. */
    private Rational exactPow(Pow p) {
        Rational b = exactOrThrow(p.base());
        if (b == null) {
            return null;
        }
        Rational x = exactOrThrow(p.exp());
        if (x == null) {
            return null;
        }
        if (x.isInteger()) {
            if (x.num().abs().compareTo(BigInteger.valueOf(MAX_EXACT_EXPONENT)) > 0) {
                if (b.equals(Rational.ONE) || b.signum() == 0 && x.signum() > 0) {
                    return b;
                }
                throw new LimitExceededException("exponent too large: " + x);
            }
            return b.pow(x.num().intValueExact());
        }
        if (x.den().equals(BigInteger.TWO) && x.num().abs().compareTo(BigInteger.valueOf(MAX_EXACT_EXPONENT)) <= 0) {
            Rational root = b.sqrtExact();
            return root == null ? null : root.pow(x.num().intValueExact());
        }
        return null;
    }

    /** The functions with rational values on rational arguments: sqrt of a square, abs, n!, binomials. */
    private Rational exactFn(Fn f) {
        switch (f.name()) {
            case "sqrt": {
                Rational v = exactOrThrow(f.args().get(0));
                return v == null ? null : v.sqrtExact();
            }
            case "abs": {
                Rational v = exactOrThrow(f.args().get(0));
                return v == null ? null : (v.signum() < 0 ? v.negate() : v);
            }
            case "fact":
                return exactFactorial(exactOrThrow(f.args().get(0)));
            case "binom":
                return exactBinom(exactOrThrow(f.args().get(0)), exactOrThrow(f.args().get(1)));
            default:
                return null;
        }
    }

    private static Rational exactFactorial(Rational v) {
        if (v == null || !v.isInteger() || v.signum() < 0) {
            return null;
        }
        if (v.num().compareTo(BigInteger.valueOf(MAX_EXACT_FACTORIAL)) > 0) {
            throw new LimitExceededException("factorial argument too large: " + v);
        }
        BigInteger r = BigInteger.ONE;
        for (int i = 2; i <= v.num().intValue(); i++) {
            r = r.multiply(BigInteger.valueOf(i));
        }
        return Rational.of(r);
    }

    private static Rational exactBinom(Rational n, Rational k) {
        if (n == null || k == null || !n.isInteger() || !k.isInteger() || k.signum() < 0
                || n.num().bitLength() > 31 || k.num().intValue() > MAX_EXACT_FACTORIAL) {
            return null;
        }
        Rational r = Rational.ONE;
        for (int i = 0; i < k.num().intValue(); i++) {
            r = r.multiply(n.subtract(Rational.of(i))).divide(Rational.of(i + 1));
        }
        return r;
    }

    /** Numeric value with the given variable assignment; NaN outside the real domain. */
    double numeric(Expr e, Map<String, Double> vars) {
        deadline.check();
        if (e instanceof Num n) {
            return n.value().toDouble();
        }
        if (e instanceof Sym s) {
            Double v = vars.get(s.name());
            if (v != null) {
                return v;
            }
            return switch (s.name()) {
                case "pi" -> Math.PI;
                case "e" -> Math.E;
                case "inf" -> Double.POSITIVE_INFINITY;
                default -> Double.NaN;
            };
        }
        if (e instanceof Add a) {
            double r = 0;
            for (Expr t : a.terms()) {
                r += numeric(t, vars);
            }
            return r;
        }
        if (e instanceof Mul m) {
            double r = 1;
            for (Expr t : m.factors()) {
                r *= numeric(t, vars);
            }
            return r;
        }
        if (e instanceof Pow p) {
            return numericPow(p, vars);
        }
        if (e instanceof Fn f) {
            return numericFn(f, vars);
        }
        return Double.NaN;
    }

    private double numericPow(Pow p, Map<String, Double> vars) {
        double b = numeric(p.base(), vars);
        double x = numeric(p.exp(), vars);
        if (b < 0 && p.exp() instanceof Mul) {
            Rational rx = exact(p.exp());
            if (rx != null && !rx.isInteger() && rx.den().testBit(0)) {
                // real odd root of a negative base, e.g. (-8)^(1/3) = -2
                double mag = Math.pow(-b, x);
                return rx.num().testBit(0) ? -mag : mag;
            }
        }
        return Math.pow(b, x);
    }

    private double numericFn(Fn f, Map<String, Double> vars) {
        List<Expr> args = f.args();
        double x = numeric(args.get(0), vars);
        return switch (f.name()) {
            case "sqrt" -> Math.sqrt(x);
            case "root" -> {
                double n = numeric(args.get(1), vars);
                if (x < 0 && n == Math.rint(n) && ((long) n) % 2 != 0) {
                    yield -Math.pow(-x, 1 / n);
                }
                yield Math.pow(x, 1 / n);
            }
            case "abs" -> Math.abs(x);
            case "sin" -> Math.sin(x);
            case "cos" -> Math.cos(x);
            case "tan" -> Math.tan(x);
            case "sec" -> 1 / Math.cos(x);
            case "csc" -> 1 / Math.sin(x);
            case "cot" -> 1 / Math.tan(x);
            case "arcsin" -> Math.asin(x);
            case "arccos" -> Math.acos(x);
            case "arctan" -> Math.atan(x);
            case "arcsec" -> Math.acos(1 / x);
            case "arccsc" -> Math.asin(1 / x);
            case "arccot" -> Math.atan(1 / x);
            case "sinh" -> Math.sinh(x);
            case "cosh" -> Math.cosh(x);
            case "tanh" -> Math.tanh(x);
            case "ln" -> Math.log(x);
            case "log" -> args.size() == 2 ? Math.log(x) / Math.log(numeric(args.get(1), vars)) : Math.log(x);
            case "fact" -> factorial(x);
            case "binom" -> {
                double k = numeric(args.get(1), vars);
                yield Math.exp(lgammaInt(x) - lgammaInt(k) - lgammaInt(x - k));
            }
            default -> Double.NaN;
        };
    }

    private double factorial(double x) {
        if (x < 0 || x != Math.rint(x)) {
            return Double.NaN;
        }
        if (x > 170) {
            return Double.POSITIVE_INFINITY;
        }
        double r = 1;
        for (int i = 2; i <= (int) x; i++) {
            r *= i;
        }
        return r;
    }

    private double lgammaInt(double x) {
        if (x < 0 || x != Math.rint(x) || x > 1e7) {
            return Double.NaN;
        }
        double r = 0;
        for (int i = 2; i <= (int) x; i++) {
            r += Math.log(i);
        }
        return r;
    }

    /** Free variables, excluding the named constants. */
    static Set<String> variables(Expr e) {
        Set<String> out = new TreeSet<>();
        collect(e, out, 0);
        return out;
    }

    private static void collect(Expr e, Set<String> out, int depth) {
        if (depth > 1_000) {
            throw new LimitExceededException("expression too deep");
        }
        if (e instanceof Sym s) {
            if (!s.name().equals("pi") && !s.name().equals("e") && !s.name().equals("inf")) {
                out.add(s.name());
            }
        } else if (e instanceof Add a) {
            a.terms().forEach(t -> collect(t, out, depth + 1));
        } else if (e instanceof Mul m) {
            m.factors().forEach(t -> collect(t, out, depth + 1));
        } else if (e instanceof Pow p) {
            collect(p.base(), out, depth + 1);
            collect(p.exp(), out, depth + 1);
        } else if (e instanceof Fn f) {
            f.args().forEach(t -> collect(t, out, depth + 1));
        } else if (e instanceof PlusMinus pm) {
            collect(pm.a(), out, depth + 1);
            collect(pm.b(), out, depth + 1);
        }
    }

    static boolean hasApprox(Expr e) {
        if (e instanceof Num n) {
            return n.approx();
        }
        if (e instanceof Add a) {
            return a.terms().stream().anyMatch(Evaluator::hasApprox);
        }
        if (e instanceof Mul m) {
            return m.factors().stream().anyMatch(Evaluator::hasApprox);
        }
        if (e instanceof Pow p) {
            return hasApprox(p.base()) || hasApprox(p.exp());
        }
        if (e instanceof Fn f) {
            return f.args().stream().anyMatch(Evaluator::hasApprox);
        }
        return false;
    }
}
