package dev.vaco.chat;

import static dev.vaco.chat.T.r;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Syntax errors with positions, runtime errors, raise_exception, sandbox limits, untrusted data. */
class ErrorsTest {

    private static TemplateException compileError(String src) {
        try {
            ChatTemplate.compile(src);
        } catch (TemplateException e) {
            return e;
        }
        throw new AssertionError("expected a syntax error for " + src);
    }

    @Test
    void syntaxErrorsNameLineAndColumn() {
        TemplateException e = compileError("line1\n{% if x %}\n{{ 1 + }}\n{% endif %}");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.column()).isEqualTo(8);
        assertThat(e.getMessage()).contains("line 3, column 8").contains("unexpected '}}'");

        e = compileError("{% if true %}x");
        assertThat(e.getMessage()).contains("unexpected end of template").contains("endif").contains("line 1, column 15");

        e = compileError("ok\n  {% foo %}");
        assertThat(e.getMessage()).contains("unknown tag 'foo'").contains("line 2, column 6");

        assertThat(compileError("{% endif %}").getMessage()).contains("unknown tag 'endif'");
        assertThat(compileError("{{ 'abc }}").getMessage()).contains("unterminated string");
        assertThat(compileError("{{ 'abc' }").getMessage()).contains("unexpected '}'");
        assertThat(compileError("{# never closed").getMessage()).contains("unterminated comment");
        assertThat(compileError("{% for x in %}{% endfor %}").getMessage()).contains("expected an expression");
        assertThat(compileError("{% break %}").getMessage()).contains("outside of a loop");
    }

    @Test
    void unknownFiltersAndTestsFailAtCompileTime() {
        assertThat(compileError("\n{{ x|nope }}").getMessage()).contains("no filter named 'nope'").contains("line 2, column 6");
        assertThat(compileError("{{ x is nope }}").getMessage()).contains("no test named 'nope'");
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        assertThatThrownBy(() -> r("{% if messages|length == 0 %}{{ raise_exception('No messages') }}{% endif %}",
                "messages", List.of()))
                .isInstanceOfSatisfying(TemplateException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("No messages");
                    assertThat(e.raisedByTemplate()).isTrue();
                });
    }

    @Test
    void runtimeErrorsNameTheLine() {
        assertThatThrownBy(() -> r("a\n{{ 1 + 'x' }}"))
                .isInstanceOfSatisfying(TemplateException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("unsupported operand");
                    assertThat(e.raisedByTemplate()).isFalse();
                });
    }

    @Test
    void undefinedIsAnErrorOnlyWhenUsedAsAnObject() {
        assertThatThrownBy(() -> r("{{ x.y.z }}")).isInstanceOf(TemplateException.class).hasMessageContaining("'x' is undefined");
        assertThatThrownBy(() -> r("{{ foo + 1 }}")).isInstanceOf(TemplateException.class).hasMessageContaining("'foo' is undefined");
        assertThatThrownBy(() -> r("{{ nofunc() }}")).isInstanceOf(TemplateException.class).hasMessageContaining("'nofunc' is undefined");
        assertThat(r("[{{ foo }}]{% if foo %}x{% endif %}{{ foo is defined }}")).isEqualTo("[]False");
    }

    @Test
    void mutatingMethodsAreUnsafeAsInTransformersSandbox() {
        assertThat(r("{{ [1,2].append }}x")).isEqualTo("x");
        assertThatThrownBy(() -> r("{% set xs = [] %}{{ xs.append(1) }}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("unsafe");
        assertThatThrownBy(() -> r("{{ d.update({'a': 1}) }}", "d", Map.of())).isInstanceOf(TemplateException.class)
                .hasMessageContaining("unsafe");
    }

    @Test
    void limitsGiveTemplateErrorsNotStackOverflows() {
        assertThat(compileError("{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}").getMessage())
                .contains("nesting deeper");
        assertThat(compileError("{% if true %}".repeat(5000)).getMessage()).contains("nesting deeper");
        assertThatThrownBy(() -> r("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
                .isInstanceOf(TemplateException.class).hasMessageContaining("recursion depth");
        assertThatThrownBy(() -> r("{% for i in range(10000000) %}{% endfor %}"))
                .isInstanceOf(TemplateException.class).hasMessageContaining("range too big");
        assertThatThrownBy(() -> r("{{ 1 / 0 }}")).isInstanceOf(TemplateException.class).hasMessageContaining("division by zero");
        assertThatThrownBy(() -> r("{{ 9223372036854775807 + 1 }}")).isInstanceOf(TemplateException.class);
    }

    @Test
    void messageContentIsRenderedVerbatim() {
        String evil = "{{ 7*7 }} {% for x in range(99999) %}{% endfor %} {# c #} {%- raw %}";
        assertThat(r("{{ m['content'] }}|{{ m.content }}", "m", Map.of("content", evil))).isEqualTo(evil + "|" + evil);
    }
}
