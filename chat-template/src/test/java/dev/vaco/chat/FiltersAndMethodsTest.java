package dev.vaco.chat;

import static dev.vaco.chat.T.r;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Jinja filters, transformers' tojson, and Python str/dict methods. */
class FiltersAndMethodsTest {

    @Test
    void stringFilters() {
        assertThat(r("{{ '  x  '|trim }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hello world'|capitalize }}"
                + "|{{ 'hello wORLD-foo'|title }}")).isEqualTo("x|AB|ab|Hello world|Hello World-Foo");
        assertThat(r("{{ 'aXbX'|replace('X', '-') }}|{{ '<a&b>'|escape }}|{{ 'a b  c'|wordcount }}|{{ 42|string }}"))
                .isEqualTo("a-b-|&lt;a&amp;b&gt;|3|42");
        assertThat(r("{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}")).isEqualTo("a\n  b\n\n  c|  a\n  b");
        // Python's str.strip() also removes non-breaking spaces
        assertThat(r("[{{ s|trim }}]", "s", "\u00a0 x \n")).isEqualTo("[x]");
    }

    @Test
    void sequenceFilters() {
        assertThat(r("{{ [1,2,3]|length }}{{ [1,2,3]|count }}{{ [1,2,3]|first }}{{ [1,2,3]|last }}{{ [1,2,3]|join(', ') }}"
                + "|{{ ['a','b']|join }}")).isEqualTo("33131, 2, 3|ab");
        assertThat(r("{{ [3,1,2,1]|unique|list }}{{ [3,1,2]|sort }}{{ [3,1,2]|reverse|list }}{{ 'ab'|reverse }}"))
                .isEqualTo("[3, 1, 2][1, 2, 3][2, 1, 3]ba");
        assertThat(r("{{ ['b','A','c']|sort }}{{ ['b','A','c']|sort(case_sensitive=true) }}{{ ['b','A','c']|sort(reverse=true) }}"))
                .isEqualTo("['A', 'b', 'c']['A', 'b', 'c']['c', 'b', 'A']");
        assertThat(r("{{ 'ab'|list }}{{ {'a': 1}|items|list }}{{ [1,2,3]|sum }}{{ [3,1,2]|min }}{{ [3,1,2]|max }}"))
                .isEqualTo("['a', 'b'][('a', 1)]613");
    }

    @Test
    void mapSelectReject() {
        List<Object> xs = List.of(Map.of("n", 1, "ok", true), Map.of("n", 2, "ok", false));
        assertThat(r("{{ xs|map(attribute='n')|join(',') }}|{{ xs|selectattr('ok')|map(attribute='n')|list }}"
                + "|{{ xs|rejectattr('ok')|list|length }}", "xs", xs)).isEqualTo("1,2|[1]|1");
        assertThat(r("{{ [1,2,3,4]|select('even')|list }}{{ [1,2,3,4]|reject('odd')|list }}{{ ['a','B']|map('upper')|list }}"
                + "{{ xs|selectattr('n', 'equalto', 2)|map(attribute='n')|first }}", "xs", xs))
                .isEqualTo("[2, 4][2, 4]['A', 'B']2");
        assertThat(r("{{ xs|sort(attribute='n', reverse=true)|map(attribute='n')|list }}", "xs", xs)).isEqualTo("[2, 1]");
    }

    @Test
    void defaultFilter() {
        assertThat(r("{{ none|default('d') }}|{{ u|default('d') }}|{{ ''|default('e', true) }}|{{ x|d('y') }}", "x", 0))
                .isEqualTo("None|d|e|0");
    }

    @Test
    void numberFilters() {
        assertThat(r("{{ '42'|int + 1 }} {{ '3.5'|float }} {{ '1'|int(5) }} {{ 'x'|int(5) }} {{ 3.9|int }} {{ true|int }}"
                + " {{ 'x'|float }} {{ 3|float }}")).isEqualTo("43 3.5 1 5 3 1 0.0 3.0");
        assertThat(r("{{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.1|round(0, 'ceil') }} {{ -3|abs }} {{ 5|round }}"))
                .isEqualTo("2.57 2.0 4.0 3.0 3 5");
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("b", List.of(1, Map.of("c", "x")));
        d.put("a", Map.of());
        assertThat(r("{{ d|tojson }}", "d", d)).isEqualTo("{\"b\": [1, {\"c\": \"x\"}], \"a\": {}}");
        assertThat(r("{{ d|tojson(indent=2) }}", "d", d))
                .isEqualTo("{\n  \"b\": [\n    1,\n    {\n      \"c\": \"x\"\n    }\n  ],\n  \"a\": {}\n}");
        // ensure_ascii=False and no HTML escaping (Jinja's own tojson would escape < > & ')
        assertThat(r("{{ s|tojson }}", "s", "é\"\n<tag>&'\u0001")).isEqualTo("\"é\\\"\\n<tag>&'\\u0001\"");
        assertThat(r("{{ [1.0, 2.5e-7, 1e20, true, none]|tojson }}")).isEqualTo("[1.0, 2.5e-07, 1e+20, true, null]");
        assertThat(r("{{ {'a': 1, 'b': [1, 2]}|tojson(separators=(',', ':')) }}{{ {'b':1,'a':2}|tojson(sort_keys=true) }}"))
                .isEqualTo("{\"a\":1,\"b\":[1,2]}{\"a\": 2, \"b\": 1}");
    }

    @Test
    void stringMethods() {
        assertThat(r("{{ ' x '.strip() }}|{{ '\\n\\nx'.lstrip('\\n') }}|{{ 'x--'.rstrip('-') }}|{{ 'xyx'.strip('x') }}"))
                .isEqualTo("x|x|x|y");
        assertThat(r("{{ 'a,b,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ ' a  b '.split() }}|{{ ' a  b '.split(' ') }}"
                + "|{{ 'a,b'.rsplit(',', 1) }}|{{ 'x\\ny'.splitlines() }}"))
                .isEqualTo("['a', 'b', 'c']|['a', 'b,c']|['a', 'b']|['', 'a', '', 'b', '']|['a', 'b']|['x', 'y']");
        assertThat(r("{{ 'abc'.startswith('a') }}{{ 'abc'.endswith('bc') }}{{ 'abc'.startswith(('x', 'ab')) }}"))
                .isEqualTo("TrueTrueTrue");
        assertThat(r("{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ \"they're bill\".title() }}"
                + "|{{ 'hI'.capitalize() }}|{{ 'hello'.find('l') }}{{ 'hello'.find('z') }}{{ 'hello'.count('l') }}"
                + "|{{ '-'.join(['a','b']) }}|{{ '{} {x}'.format(1, x=2) }}"))
                .isEqualTo("bba|HIhi|They'Re Bill|Hi|2-12|a-b|1 2");
    }

    @Test
    void qwenStyleThinkSplitting() {
        String src = "{{ c.split('</think>')[-1].lstrip('\\n') }}|"
                + "{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}";
        assertThat(r(src, "c", "<think>\nreason\n</think>\n\nanswer")).isEqualTo("answer|reason");
    }

    @Test
    void dictMethods() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", 1);
        d.put("b", 2);
        assertThat(r("{{ d.get('a') }}{{ d.get('z', 'def') }}{{ d.get('z') }}{{ d.keys()|list }}{{ d.values()|list }}"
                + "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "d", d))
                .isEqualTo("1defNone['a', 'b'][1, 2]a=1;b=2;");
    }
}
