package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class RationalTest {

    @Test
    void keepsLowestTermsWithPositiveDenominator() {
        Rational r = Rational.of(BigInteger.valueOf(6), BigInteger.valueOf(-4));
        assertThat(r.num()).isEqualTo(BigInteger.valueOf(-3));
        assertThat(r.den()).isEqualTo(BigInteger.TWO);
        assertThat(r).hasToString("-3/2");
    }

    @Test
    void arithmeticIsExact() {
        Rational third = Rational.of(1).divide(Rational.of(3));
        assertThat(third.add(third).add(third)).isEqualTo(Rational.ONE);
        assertThat(third.multiply(Rational.of(3))).isEqualTo(Rational.ONE);
        assertThat(third.subtract(third)).isEqualTo(Rational.ZERO);
        assertThat(Rational.of(2).pow(-2)).isEqualTo(Rational.of(1).divide(Rational.of(4)));
    }

    @Test
    void decimalsParseExactly() {
        assertThat(Rational.parseDecimal("0.1").add(Rational.parseDecimal("0.2"))).isEqualTo(Rational.parseDecimal("0.3"));
        assertThat(Rational.parseDecimal(".4")).isEqualTo(Rational.of(2).divide(Rational.of(5)));
        assertThat(Rational.parseDecimal("1000.0")).isEqualTo(Rational.of(1000));
    }

    @Test
    void exactSquareRootsOnlyForPerfectSquares() {
        assertThat(Rational.of(9).divide(Rational.of(4)).sqrtExact()).isEqualTo(Rational.of(3).divide(Rational.of(2)));
        assertThat(Rational.of(2).sqrtExact()).isNull();
        assertThat(Rational.of(-4).sqrtExact()).isNull();
    }

    @Test
    void refusesHugePowersBeforeComputingThem() {
        assertThatThrownBy(() -> Rational.of(10).pow(1_000_000)).isInstanceOf(LimitExceededException.class)
                .hasMessageContaining("power too large");
        assertThatThrownBy(() -> Rational.parseDecimal("1" + "0".repeat(30_000))).isInstanceOf(LimitExceededException.class);
    }

    @Test
    void divisionByZeroIsAnArithmeticError() {
        assertThatThrownBy(() -> Rational.ONE.divide(Rational.ZERO)).isInstanceOf(ArithmeticException.class);
    }
}
