package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vaco.reward.Expr.*;
import org.junit.jupiter.api.Test;

class LatexParserTest {

    private static Expr parse(String s) {
        return LatexParser.parse(s, false, Deadline.none());
    }

    @Test
    void containerShapes() {
        assertThat(parse("(1, 2)")).isInstanceOf(Tuple.class);
        assertThat(parse("[0, 1)")).isEqualTo(new Interval(Expr.num(0), Expr.num(1), true, false));
        assertThat(parse("\\{1, 2\\}")).isInstanceOf(SetOf.class).matches(e -> ((SetOf) e).braced());
        assertThat(parse("1, 2")).isInstanceOf(SetOf.class).matches(e -> !((SetOf) e).braced());
        assertThat(parse("[1,2]\\cup(3,\\infty)")).isInstanceOf(Union.class);
        assertThat(parse("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}")).isInstanceOf(Matrix.class)
                .matches(e -> ((Matrix) e).rows().size() == 2 && ((Matrix) e).rows().get(0).size() == 2);
        assertThat(parse("x \\le 3")).isInstanceOf(Rel.class);
        assertThat(parse("1 \\pm \\sqrt{2}")).isInstanceOf(PlusMinus.class);
        assertThat(parse("\\text{Evelyn}")).isEqualTo(new Text("Evelyn"));
    }

    @Test
    void subscriptsNameSymbolsAndGiveBases() {
        assertThat(parse("a_{37}")).isEqualTo(new Sym("a_37"));
        assertThat(parse("a_3")).isEqualTo(new Sym("a_3"));
        assertThat(parse("204_5")).isEqualTo(Expr.num(54));
    }

    @Test
    void malformedFractionsAndRoots() {
        Evaluator ev = new Evaluator(Deadline.none());
        assertThat(ev.exact(parse("\\frac12"))).isEqualTo(Rational.of(1).divide(Rational.of(2)));
        assertThat(ev.exact(parse("\\dfrac{3}{4}"))).isEqualTo(Rational.of(3).divide(Rational.of(4)));
        assertThat(ev.exact(parse("\\sqrt4"))).isEqualTo(Rational.of(2));
        assertThat(ev.exact(parse("2\\frac{1}{2}"))).isEqualTo(Rational.of(5).divide(Rational.of(2)));
        assertThat(ev.exact(parse("2^{10}"))).isEqualTo(Rational.of(1024));
        assertThat(ev.exact(parse("-2^2"))).isEqualTo(Rational.of(-4));
    }

    @Test
    void deepNestingFailsFastInsteadOfOverflowingTheStack() {
        String deep = "{".repeat(100_000) + "1" + "}".repeat(100_000);
        assertThatThrownBy(() -> parse(deep)).isInstanceOf(LimitExceededException.class);
        String parens = "(".repeat(3_000) + "1" + ")".repeat(3_000);
        assertThatThrownBy(() -> parse(parens)).isInstanceOf(LimitExceededException.class).hasMessageContaining("nesting");
    }

    @Test
    void wordsAndUnknownCommandsAreNotMath() {
        assertThatThrownBy(() -> parse("the cat")).isInstanceOf(ParseException.class);
        assertThatThrownBy(() -> parse("\\foo{1}")).isInstanceOf(ParseException.class);
        assertThatThrownBy(() -> parse("\uFFFD\uFFFD")).isInstanceOf(ParseException.class);
    }

    @Test
    void aCancelledDeadlineStopsTheParser() {
        Deadline d = Deadline.none();
        d.cancel();
        assertThatThrownBy(() -> LatexParser.parse("1+2", false, d)).isInstanceOf(DeadlineExceededException.class);
    }
}
