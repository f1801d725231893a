package dev.vaco.chat;

import static dev.vaco.chat.T.r;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** trim_blocks + lstrip_blocks (transformers' environment) and explicit whitespace control. */
class WhitespaceTest {

    @Test
    void trimBlocksDropsNewlineAfterBlockTag() {
        assertThat(r("{% if true %}\nA\n{% endif %}\nB")).isEqualTo("A\nB");
    }

    @Test
    void lstripBlocksDropsIndentationBeforeBlockTag() {
        assertThat(r("  {% if true %}\n    yes\n  {% endif %}\nafter\n")).isEqualTo("    yes\nafter");
    }

    @Test
    void lstripOnlyAppliesWhenTagStartsTheLine() {
        assertThat(r("x  {% if true %}y{% endif %}")).isEqualTo("x  y");
        assertThat(r("{{ 1 }}  {% if true %}x{% endif %}")).isEqualTo("1  x");
        assertThat(r("x  \n\t {% if true %}y{% endif %}")).isEqualTo("x  \ny");
    }

    @Test
    void expressionsAreNeverLstripped() {
        assertThat(r("a\n  {{ 'b' }}\n")).isEqualTo("a\n  b");
    }

    @Test
    void minusStripsAllWhitespaceIncludingNewlines() {
        assertThat(r("a  {%- if true -%}  b  {%- endif -%}  c")).isEqualTo("abc");
        assertThat(r("{{- ' a ' -}}  \n {{ 'b' }}")).isEqualTo(" a b");
        assertThat(r("{%- if true %} a {% endif -%}\n\n b")).isEqualTo(" a b");
    }

    @Test
    void plusDisablesLstripAndTrim() {
        assertThat(r("{%+ if true %}x{% endif %}\n  {%+ if true %}y{% endif %}\n  {{ 'z' }}\n"))
                .isEqualTo("x  y  z"); // the {% endif %}s still trim their newlines
        assertThat(r("{% if true +%}\nx{% endif %}")).isEqualTo("\nx");
    }

    @Test
    void commentsAreTrimmedLikeBlocks() {
        assertThat(r("{# comment #}\n{% if true %}\nA\n{% endif %}\n{# c2 #}\nB")).isEqualTo("A\nB");
        assertThat(r("a\n  {#- c -#}\n  b")).isEqualTo("ab");
        assertThat(r("  {# c #}  x")).isEqualTo("  x");
    }

    @Test
    void indentedLoopLinesLeaveNoTrace() {
        assertThat(r("line1\n    {% for i in [1,2] %}\n    item{{ i }}\n    {% endfor %}\nend\n\n"))
                .isEqualTo("line1\n    item1\n    item2\nend\n");
    }

    @Test
    void singleTrailingNewlineIsDroppedAndCrLfNormalized() {
        assertThat(r("x\n")).isEqualTo("x");
        assertThat(r("x\n\n")).isEqualTo("x\n");
        assertThat(r("a\r\nb\r\n{% if true %}\r\nc{% endif %}\r\n")).isEqualTo("a\nb\nc");
    }

    @Test
    void rawBlocksAreNotEvaluated() {
        assertThat(r("{% raw %}{{ not evaluated }}{% endraw %}")).isEqualTo("{{ not evaluated }}");
        // no trim_blocks after {% raw %}, but {% endraw %} is lstripped and trimmed
        assertThat(r("x\n  {% raw %}\n{{ y }}\n  {% endraw %}\nz")).isEqualTo("x\n\n{{ y }}\nz");
    }

    @Test
    void bracesInsideExpressionsDoNotCloseTheTag() {
        assertThat(r("{{ {'a': {'b': 1}} }}")).isEqualTo("{'a': {'b': 1}}");
        assertThat(r("{{ {'a': {'b': 1}}['a']['b'] }}")).isEqualTo("1");
    }
}
