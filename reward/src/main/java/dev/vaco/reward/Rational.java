package dev.vaco.reward;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;

/**
 * Exact rational number, always in lowest terms with a positive denominator.
 * Sizes are capped so that an adversarial answer cannot make arithmetic allocate without bound.
 */
public final class Rational implements Comparable<Rational> {
    /** Numerators/denominators beyond this many bits are refused: ~30k decimal digits. */
    static final int MAX_BITS = 100_000;

    public static final Rational ZERO = new Rational(BigInteger.ZERO, BigInteger.ONE);
    public static final Rational ONE = new Rational(BigInteger.ONE, BigInteger.ONE);

    private final BigInteger num;
    private final BigInteger den;

    private Rational(BigInteger num, BigInteger den) {
        this.num = num;
        this.den = den;
    }

    public static Rational of(long n) {
        return new Rational(BigInteger.valueOf(n), BigInteger.ONE);
    }

    public static Rational of(BigInteger n) {
        return of(n, BigInteger.ONE);
    }

    public static Rational of(BigInteger n, BigInteger d) {
        if (d.signum() == 0) {
            throw new ArithmeticException("division by zero");
        }
        if (n.bitLength() > MAX_BITS || d.bitLength() > MAX_BITS) {
            throw new LimitExceededException("number larger than " + MAX_BITS + " bits");
        }
        if (d.signum() < 0) {
            n = n.negate();
            d = d.negate();
        }
        BigInteger g = n.gcd(d);
        if (!g.equals(BigInteger.ONE) && g.signum() != 0) {
            n = n.divide(g);
            d = d.divide(g);
        }
        return new Rational(n, d.signum() == 0 ? BigInteger.ONE : d);
    }

    /** Parses "123", "-1.25", ".4", "1e3" exactly (a decimal is a rational, not a double). */
    public static Rational parseDecimal(String s) {
        if (s.length() > 20_000) {
            throw new LimitExceededException("number literal longer than 20000 characters");
        }
        BigDecimal d = new BigDecimal(s);
        if (Math.abs((long) d.scale()) > 20_000) {
            throw new LimitExceededException("decimal exponent out of range: " + d.scale());
        }
        if (d.scale() <= 0) {
            return of(d.toBigIntegerExact());
        }
        return of(d.unscaledValue(), BigInteger.TEN.pow(d.scale()));
    }

    public BigInteger num() {
        return num;
    }

    public BigInteger den() {
        return den;
    }

    public boolean isInteger() {
        return den.equals(BigInteger.ONE);
    }

    public int signum() {
        return num.signum();
    }

    public Rational add(Rational o) {
        return of(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den));
    }

    public Rational subtract(Rational o) {
        return add(o.negate());
    }

    public Rational multiply(Rational o) {
        return of(num.multiply(o.num), den.multiply(o.den));
    }

    public Rational divide(Rational o) {
        return of(num.multiply(o.den), den.multiply(o.num));
    }

    public Rational negate() {
        return new Rational(num.negate(), den);
    }

    /** Integer power; refuses results whose size would pass {@link #MAX_BITS} before computing them. */
    public Rational pow(int e) {
        if (e == 0) {
            return ONE;
        }
        long bits = (long) Math.max(num.bitLength(), den.bitLength()) * Math.abs((long) e);
        if (bits > MAX_BITS) {
            throw new LimitExceededException("power too large: ~" + bits + " bits");
        }
        Rational r = of(num.pow(Math.abs(e)), den.pow(Math.abs(e)));
        return e > 0 ? r : ONE.divide(r);
    }

    /** Exact square root when numerator and denominator are perfect squares, else null. */
    public Rational sqrtExact() {
        if (num.signum() < 0) {
            return null;
        }
        BigInteger rn = num.sqrt();
        BigInteger rd = den.sqrt();
        if (rn.multiply(rn).equals(num) && rd.multiply(rd).equals(den)) {
            return of(rn, rd);
        }
        return null;
    }

    public double toDouble() {
        if (num.bitLength() < 1000 && den.bitLength() < 1000) {
            return num.doubleValue() / den.doubleValue();
        }
        return new BigDecimal(num).divide(new BigDecimal(den), MathContext.DECIMAL64).doubleValue();
    }

    @Override
    public int compareTo(Rational o) {
        return num.multiply(o.den).compareTo(o.num.multiply(den));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rational r && r.num.equals(num) && r.den.equals(den);
    }

    @Override
    public int hashCode() {
        return num.hashCode() * 31 + den.hashCode();
    }

    @Override
    public String toString() {
        return isInteger() ? num.toString() : num + "/" + den;
    }
}
