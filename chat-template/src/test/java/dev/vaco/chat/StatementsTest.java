package dev.vaco.chat;

import static dev.vaco.chat.T.r;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Control structures, assignment, scoping, namespace, macros. */
class StatementsTest {

    @Test
    void ifElifElse() {
        String src = "{% if a %}A{% elif b %}B{% elif c %}C{% else %}D{% endif %}";
        assertThat(r(src, "c", 1)).isEqualTo("C");
        assertThat(r(src, "a", "x")).isEqualTo("A");
        assertThat(r(src)).isEqualTo("D");
    }

    @Test
    void loopVariables() {
        assertThat(r("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
                + "{{ loop.revindex }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}", "xs", List.of("a", "b", "c")))
                .isEqualTo("10TrueFalse33b;21FalseFalse32ac;32FalseTrue31b;");
        assertThat(r("{% for m in [1,2,3] %}{{ loop.cycle('odd', 'even') }}{% endfor %}")).isEqualTo("oddevenodd");
    }

    @Test
    void loopFilterAndElse() {
        assertThat(r("{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}", "xs", List.of(1, 2, 3)))
                .isEqualTo("2232");
        assertThat(r("{% for x in xs %}{{ x }}{% else %}none{% endfor %}", "xs", List.of())).isEqualTo("none");
    }

    @Test
    void loopOverStringsDictsAndTuples() {
        assertThat(r("{% for x in 'ab' %}{{ x }}{% endfor %}{% for k in {'p':1,'q':2} %}{{ k }}{% endfor %}"
                + "{% for a, b in [[1, 2], [3, 4]] %}{{ a * b }}{% endfor %}")).isEqualTo("abpq212");
    }

    @Test
    void nestedLoopsAndLoopControls() {
        assertThat(r("{% for a in [1,2] %}{% for b in [3,4] %}{{ loop.index }}{{ a }}{{ b }};{% endfor %}{% endfor %}"))
                .isEqualTo("113;214;123;224;");
        assertThat(r("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}"
                + "{{ i }}{% endfor %}")).isEqualTo("0134");
    }

    @Test
    void recursiveLoop() {
        List<Object> tree = List.of(Map.of("n", 1, "c", List.of(Map.of("n", 2, "c", List.of()))), Map.of("n", 3));
        assertThat(r("{% for item in tree recursive %}[{{ item.n }}{% if item.c %}{{ loop(item.c) }}{% endif %}]{% endfor %}",
                "tree", tree)).isEqualTo("[1[2]][3]");
    }

    @Test
    void setInsideLoopDoesNotLeakButNamespaceDoes() {
        assertThat(r("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}")).isEqualTo("21");
        assertThat(r("{% set ns = namespace(a=1, found=false) %}{% for i in range(3) %}{% set ns.a = ns.a + i %}"
                + "{% if i == 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.a }}{{ ns.found }}"))
                .isEqualTo("4True");
        assertThat(r("{% if true %}{% set y = 3 %}{% endif %}{{ y }}")).isEqualTo("3");
    }

    @Test
    void topLevelAssignmentShadowsContextForTheWholeTemplate() {
        // Jinja's compile-time scoping: a top-level name first mentioned by an unconditional set starts undefined
        assertThat(r("{% for i in [1] %}[{{ c }}]{% endfor %}{% set c = 1 %}{{ c }}", "c", "C")).isEqualTo("[]1");
        assertThat(r("{% macro m() %}[{{ c }}]{% endmacro %}{{ m() }}{% set c = 1 %}", "c", "C")).isEqualTo("[]");
        // read first at the top level, or assigned only conditionally: the context value is used
        assertThat(r("{{ c }}{% for i in [1] %}[{{ c }}]{% endfor %}{% set c = 1 %}", "c", "C")).isEqualTo("C[C]");
        assertThat(r("{% for i in [1] %}[{{ c }}]{% endfor %}{% if x %}{% set c = 1 %}{% endif %}", "c", "C"))
                .isEqualTo("[C]");
    }

    @Test
    void filterAndGenerationBlocksHaveTheirOwnScope() {
        assertThat(r("{% filter upper %}{% set x = 'a' %}{{ x }}{% endfilter %}[{{ x }}]")).isEqualTo("A[]");
        assertThat(r("{% generation %}{% set x = 1 %}{{ x }}{% endgeneration %}[{{ x }}]")).isEqualTo("1[]");
    }

    @Test
    void setVariants() {
        assertThat(r("{% set a, b = [1, 2] %}{{ a }}{{ b }}")).isEqualTo("12");
        assertThat(r("{% set x %}block {{ 1 }}{% endset %}[{{ x }}]")).isEqualTo("[block 1]");
        assertThat(r("{% set x | upper %}abc{% endset %}{{ x }}")).isEqualTo("ABC");
        assertThat(r("{% set t = (1, 2) %}{{ t[0] }}{{ t|length }}{{ t + (3,) }}")).isEqualTo("12(1, 2, 3)");
        assertThat(r("{% set ns = namespace(items=[]) %}{% set ns.items = ns.items + [1] %}{{ ns.items }}")).isEqualTo("[1]");
    }

    @Test
    void macros() {
        assertThat(r("{% macro m(a, b='x') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(2, 'y') }}{{ m(3, b='z') }}"))
                .isEqualTo("[1x][2y][3z]");
        assertThat(r("{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(3) }}"))
                .isEqualTo("321");
        assertThat(r("{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, k=4) }}"))
                .isEqualTo("1(2, 3){'k': 4}");
    }

    @Test
    void callBlockAndFilterBlockAndWith() {
        assertThat(r("{% macro m() %}<{{ caller() }}>{% endmacro %}{% call m() %}inner{% endcall %}")).isEqualTo("<inner>");
        assertThat(r("{% macro m() %}{{ caller(2) }}{% endmacro %}{% call(n) m() %}n={{ n }}{% endcall %}")).isEqualTo("n=2");
        assertThat(r("{% filter upper %}abc{{ 'd' }}{% endfilter %}")).isEqualTo("ABCD");
        assertThat(r("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]")).isEqualTo("3[]");
    }

    @Test
    void generationBlockIsTransparent() {
        assertThat(r("{% generation %}x{% endgeneration %}")).isEqualTo("x");
    }

    @Test
    void deepButReasonableNestingWorks() {
        StringBuilder src = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            src.append("{% if true %}");
        }
        src.append("deep");
        for (int i = 0; i < 60; i++) {
            src.append("{% endif %}");
        }
        assertThat(r(src.toString())).isEqualTo("deep");
        assertThat(r("{{ " + "(".repeat(100) + "1" + ")".repeat(100) + " }}")).isEqualTo("1");
    }
}
