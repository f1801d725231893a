package dev.vaco.chat;

import static dev.vaco.chat.T.r;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Literals, Python-style printing, operators, access, slices and tests. */
class ExpressionTest {

    @Test
    void valuesPrintLikePythonStr() {
        assertThat(r("{{ x }}|{{ y }}|{{ z }}|{{ u }}", "x", null, "y", true, "z", List.of(1, "a", 2.5), "u",
                Map.of("a", 1))).isEqualTo("None|True|[1, 'a', 2.5]|{'a': 1}");
        assertThat(r("{{ (1, 2) }} {{ (1,) }} {{ () }} {{ \"it's\" }} {{ ['it\\'s'] }} {{ ['a\"b'] }}"))
                .isEqualTo("(1, 2) (1,) () it's [\"it's\"] ['a\"b']");
        assertThat(r("{{ none }}{{ True }}{{ false }}")).isEqualTo("NoneTrueFalse");
    }

    @Test
    void floatsPrintLikePythonRepr() {
        assertThat(r("{{ 1.0 }} {{ 0.1 }} {{ 1e-5 }} {{ 1e16 }} {{ 1/3 }} {{ -0.0 }} {{ 2.0 ** 0.5 }} {{ 5e-324 }}"))
                .isEqualTo("1.0 0.1 1e-05 1e+16 0.3333333333333333 -0.0 1.4142135623730951 5e-324");
        assertThat(r("{{ 100.0 }} {{ 1.5e15 }} {{ 0.0001 }}")).isEqualTo("100.0 1500000000000000.0 0.0001");
    }

    @Test
    void stringLiteralsUsePythonEscapes() {
        assertThat(r("{{ 'a\\'b' }}{{ \"a\\\"b\" }}{{ 'tab\\there' }}{{ 'back\\\\slash' }}{{ 'unknown\\qesc' }}"))
                .isEqualTo("a'ba\"btab\there" + "back\\slashunknown\\qesc");
        assertThat(r("{{ 'a' 'b' }}{{ \"\\u00e9\\x41\\n\" }}")).isEqualTo("abéA\n");
    }

    @Test
    void arithmeticFollowsPython() {
        assertThat(r("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 6 / 2 }}"))
                .isEqualTo("7 3 -4 1 2 1024 3.5 3.0");
        assertThat(r("{{ 3 // 0.5 }} {{ -7.5 % 2 }} {{ 2 ** -1 }} {{ 'x' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ true + 1 }}"))
                .isEqualTo("6.0 0.5 0.5 xxx [1, 1] [1, 2] 2");
        assertThat(r("{{ 1 // 0.1 }} {{ -3 % 3.0 }} {{ -7.5 // 2 }}")).isEqualTo("9.0 0.0 -4.0"); // CPython float divmod
        assertThat(r("{{ '%s=%d' % ('a', 3) }} {{ '%(k)s' % {'k': 'v'} }} {{ '%5.2f|%-3s|%03d' % (3.14159, 'x', 7) }}"))
                .isEqualTo("a=3 v  3.14|x  |007");
        // Jinja quirks: ** is left-associative, unary minus binds tighter than **
        assertThat(r("{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}")).isEqualTo("64 4");
    }

    @Test
    void concatenationAndFilterPrecedence() {
        assertThat(r("{{ 'a' ~ 1 ~ none }}")).isEqualTo("a1None");
        assertThat(r("{{ 'Hello' ~ ' ' ~ 'World' | upper }}")).isEqualTo("Hello WORLD");
        assertThat(r("{{ messages|length - 1 }}", "messages", List.of(1, 2, 3))).isEqualTo("2");
        assertThat(r("{{ -1|abs }}")).isEqualTo("1");
    }

    @Test
    void logicAndComparisons() {
        assertThat(r("{{ 'a' if x else 'b' }}{{ 'a' if y else 'b' }}[{{ 'c' if y }}]{{ x and y }}{{ x or y }}{{ not x }}",
                "x", 1, "y", 0)).isEqualTo("ab[]01False"); // and/or return an operand
        assertThat(r("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ [1,2] < [1,3] }} {{ 'abc' < 'abd' }}"))
                .isEqualTo("True False True True True True");
        assertThat(r("{{ 1 in [1,2] }}{{ 3 not in [1,2] }}{{ 'b' in 'abc' }}{{ 'k' in {'k':1} }}{{ not 1 == 2 }}"))
                .isEqualTo("TrueTrueTrueTrueTrue");
    }

    @Test
    void attributeAndItemAccess() {
        Map<String, Object> msg = Map.of("role", "user", "content", "hi");
        assertThat(r("{{ m['content'] }}{{ m.content }}{{ m.missing }}|{{ m['missing'] is defined }}", "m", msg))
                .isEqualTo("hihi|False");
        assertThat(r("{% set d = {'x': {'y': [1, {'z': 2}]}} %}{{ d.x.y[1].z }}{{ d['x']['y'][0] }}")).isEqualTo("21");
        assertThat(r("{{ [1,2,3][1] }}{{ [1,2,3][-1] }}{{ [1][5] }}{{ 'abc'[0] }}{{ none.foo }}{{ 'x'.foo }}"))
                .isEqualTo("23a"); // out-of-range index and missing attributes are undefined
    }

    @Test
    void slices() {
        assertThat(r("{{ xs[::-1] }}{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::2] }}{{ xs[-2:] }}{{ xs[1:99] }}",
                "xs", List.of(1, 2, 3, 4))).isEqualTo("[4, 3, 2, 1][2, 3, 4][1, 2, 3][1, 3][3, 4][2, 3, 4]");
        assertThat(r("{{ 'hello'[1:3] }}{{ 'hello'[::-1] }}{{ '😀ab'[::-1] }}{{ '😀a'[1] }}")).isEqualTo("elolleh" + "ba😀a");
    }

    @Test
    void tests() {
        assertThat(r("{{ x is string }}{{ x is mapping }}{{ x is iterable }}{{ x is sequence }}{{ d is mapping }}"
                + "{{ d is sequence }}", "x", "s", "d", Map.of())).isEqualTo("TrueFalseTrueTrueTrueTrue");
        assertThat(r("{{ 1 is number }}{{ 1 is integer }}{{ true is boolean }}{{ true is number }}{{ true is integer }}"
                + "{{ 1.5 is float }}")).isEqualTo("TrueTrueTrueTrueFalseTrue");
        assertThat(r("{{ true is true }}{{ false is false }}{{ 3 is odd }}{{ 4 is even }}{{ 3 is equalto 3 }}"
                + "{{ 3 is eq(3) }}{{ none is not none }}{{ 5 is divisibleby 5 }}{{ 1 is in [1] }}"))
                .isEqualTo("TrueTrueTrueTrueTrueTrueFalseTrueTrue");
        assertThat(r("{{ foo is defined }}{{ foo is undefined }}{{ x is defined and x.y is defined }}",
                "x", Map.of("z", 1))).isEqualTo("FalseTrueFalse");
    }

    @Test
    void undefinedIsFalsyEmptyAndIterable() {
        assertThat(r("[{{ missing }}]{{ missing|default('D') }}{{ missing|length }}{% for x in missing %}no{% endfor %}"
                + "{% if not missing %}falsy{% endif %}")).isEqualTo("[]D0falsy");
    }

    @Test
    void pythonTruthiness() {
        assertThat(r("{% for v in ['', 'a', 0, 1, [], [0], {}, none, 0.0] %}{{ 'T' if v else 'F' }}{% endfor %}"))
                .isEqualTo("FTFTFTFFF");
    }

    @Test
    void globals() {
        assertThat(r("{{ range(5)|list }}{{ range(1, 10, 3)|list }}{{ range(5, 0, -2)|list }}{{ dict(a=1, b='x') }}"))
                .isEqualTo("[0, 1, 2, 3, 4][1, 4, 7][5, 3, 1]{'a': 1, 'b': 'x'}");
    }

    @Test
    void javaContextValuesAreNormalized() {
        assertThat(r("{{ a + b }} {{ c }} {{ d[1] }} {{ e }}", "a", 1, "b", 2L, "c", 1.5f, "d", new Object[] {"x", "y"},
                "e", new java.math.BigDecimal("2.50"))).isEqualTo("3 1.5 y 2.5");
    }
}
