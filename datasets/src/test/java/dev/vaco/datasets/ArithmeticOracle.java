package dev.vaco.datasets;

import java.math.BigInteger;

/**
 * Test oracle: a tiny recursive-descent evaluator for integer expressions with + - * / and parentheses,
 * written independently of the generator (BigInteger, so overflow cannot hide a bug).
 * Grammar: expr = term (('+'|'-') term)*; term = factor (('*'|'/') factor)*; factor = number | '(' expr ')'.
 */
final class ArithmeticOracle {

    private final String s;
    private int pos;

    private ArithmeticOracle(String s) {
        this.s = s.replace(" ", "");
    }

    static BigInteger eval(String expression) {
        ArithmeticOracle p = new ArithmeticOracle(expression);
        BigInteger v = p.expr();
        if (p.pos != p.s.length()) {
            throw new IllegalArgumentException("trailing input at " + p.pos + " in " + expression);
        }
        return v;
    }

    private BigInteger expr() {
        BigInteger v = term();
        while (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
            char op = s.charAt(pos++);
            BigInteger r = term();
            v = op == '+' ? v.add(r) : v.subtract(r);
        }
        return v;
    }

    private BigInteger term() {
        BigInteger v = factor();
        while (pos < s.length() && (s.charAt(pos) == '*' || s.charAt(pos) == '/')) {
            char op = s.charAt(pos++);
            BigInteger r = factor();
            if (op == '*') {
                v = v.multiply(r);
            } else {
                BigInteger[] qr = v.divideAndRemainder(r);
                if (qr[1].signum() != 0) {
                    throw new IllegalArgumentException("inexact division in " + s);
                }
                v = qr[0];
            }
        }
        return v;
    }

    private BigInteger factor() {
        if (pos < s.length() && s.charAt(pos) == '(') {
            pos++;
            BigInteger v = expr();
            if (pos >= s.length() || s.charAt(pos) != ')') {
                throw new IllegalArgumentException("expected ')' at " + pos + " in " + s);
            }
            pos++;
            return v;
        }
        int start = pos;
        while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw new IllegalArgumentException("expected a number at " + pos + " in " + s);
        }
        return new BigInteger(s.substring(start, pos));
    }
}
