package dev.vaco.datasets;

import java.util.List;

/**
 * Integer arithmetic expression tree for the synthetic generator, with exact (long) evaluation, a
 * rendering with only the parentheses the tree needs, and step-by-step working in post-order — the
 * order a person (and the model) evaluates it.
 */
sealed interface SyntheticExpr {

    long value();

    /** Number of binary operations. */
    int ops();

    record Num(long v) implements SyntheticExpr {
        public Num {
            if (v < 0) {
                throw new IllegalArgumentException("literals are non-negative, found " + v);
            }
        }

        @Override
        public long value() {
            return v;
        }

        @Override
        public int ops() {
            return 0;
        }

        @Override
        public String toString() {
            return Long.toString(v);
        }
    }

    record Bin(char op, SyntheticExpr left, SyntheticExpr right) implements SyntheticExpr {
        public Bin {
            if (op != '+' && op != '-' && op != '*') {
                throw new IllegalArgumentException("op must be one of + - *, found " + op);
            }
        }

        @Override
        public long value() {
            long a = left.value();
            long b = right.value();
            return switch (op) {
                case '+' -> Math.addExact(a, b);
                case '-' -> Math.subtractExact(a, b);
                default -> Math.multiplyExact(a, b);
            };
        }

        @Override
        public int ops() {
            return 1 + left.ops() + right.ops();
        }

        /**
         * Left child in parentheses only when it binds weaker; right child also when it binds equally,
         * because + - and * are read left-associatively: this keeps the string's parse identical to the tree.
         */
        @Override
        public String toString() {
            String l = left.toString();
            String r = right.toString();
            if (precedence(left) < precedence(this)) {
                l = "(" + l + ")";
            }
            if (precedence(right) <= precedence(this)) {
                r = "(" + r + ")";
            }
            return l + op + r;
        }
    }

    static int precedence(SyntheticExpr e) {
        if (e instanceof Bin b) {
            return b.op() == '*' ? 2 : 1;
        }
        return 3;
    }

    /** True when no sub-expression is negative and none exceeds {@code cap}. */
    static boolean withinBounds(SyntheticExpr e, long cap) {
        if (e instanceof Bin b) {
            long v;
            try {
                v = b.value();
            } catch (ArithmeticException overflow) {
                return false;
            }
            return v >= 0 && v <= cap && withinBounds(b.left(), cap) && withinBounds(b.right(), cap);
        }
        return e.value() <= cap;
    }

    /** True when every product has a factor of at most {@code maxSmallFactor} (keeps working mental-sized). */
    static boolean productsEasy(SyntheticExpr e, long maxSmallFactor) {
        if (e instanceof Bin b) {
            if (b.op() == '*' && Math.min(b.left().value(), b.right().value()) > maxSmallFactor) {
                return false;
            }
            return productsEasy(b.left(), maxSmallFactor) && productsEasy(b.right(), maxSmallFactor);
        }
        return true;
    }

    static boolean contains(SyntheticExpr e, char op) {
        return e instanceof Bin b && (b.op() == op || contains(b.left(), op) || contains(b.right(), op));
    }

    /** Appends one line {@code a op b=v} per operation, innermost first, left to right. */
    static void steps(SyntheticExpr e, List<String> out) {
        if (e instanceof Bin b) {
            steps(b.left(), out);
            steps(b.right(), out);
            out.add(b.left().value() + String.valueOf(b.op()) + b.right().value() + "=" + b.value());
        }
    }
}
