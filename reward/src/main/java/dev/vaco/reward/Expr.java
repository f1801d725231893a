package dev.vaco.reward;

import java.util.List;

/** Parsed answer. Scalars (Num..Fn) are evaluated; the rest are containers compared structurally. */
public sealed interface Expr {

    /** A literal; {@code approx} marks a written decimal, which earns float tolerance in comparisons. */
    record Num(Rational value, boolean approx) implements Expr {
    }

    /** A variable or named constant ("pi", "e", "inf"). Subscripts are part of the name: a_{37}. */
    record Sym(String name) implements Expr {
    }

    record Add(List<Expr> terms) implements Expr {
    }

    record Mul(List<Expr> factors) implements Expr {
    }

    record Pow(Expr base, Expr exp) implements Expr {
    }

    /** sin, cos, ..., sqrt (one arg), root (radicand, index), abs, fact, binom, log (arg[, base]). */
    record Fn(String name, List<Expr> args) implements Expr {
    }

    /** a ± b; expands to the set {a+b, a-b} when compared. */
    record PlusMinus(Expr a, Expr b) implements Expr {
    }

    /** Parenthesised comma list: order matters. */
    record Tuple(List<Expr> items) implements Expr {
    }

    /** Braced set, or a bare comma list at top level (answers like "-2, 1"): order does not matter. */
    record SetOf(List<Expr> items, boolean braced) implements Expr {
    }

    record Interval(Expr lo, Expr hi, boolean loClosed, boolean hiClosed) implements Expr {
    }

    record Union(List<Expr> parts) implements Expr {
    }

    record Matrix(List<List<Expr>> rows) implements Expr {
    }

    /** Chain of relations: operands.size() == ops.size() + 1; ops are "=", "<", "<=", ">", ">=", "!=", "in", "approx". */
    record Rel(List<Expr> operands, List<String> ops) implements Expr {
    }

    /** \text{...} that is not a unit or a connective: compared as normalised text. */
    record Text(String text) implements Expr {
    }

    static Num num(long n) {
        return new Num(Rational.of(n), false);
    }

    static Expr neg(Expr e) {
        if (e instanceof Num n) {
            return new Num(n.value().negate(), n.approx());
        }
        return new Mul(List.of(num(-1), e));
    }

    static Expr inverse(Expr e) {
        return new Pow(e, num(-1));
    }
}
