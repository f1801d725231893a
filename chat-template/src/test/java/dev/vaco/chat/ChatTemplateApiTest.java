package dev.vaco.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fromTokenizerConfig, apply's context, strftime_now/date_string, thread safety. */
class ChatTemplateApiTest {

    @TempDir
    Path dir;

    private static final List<Map<String, Object>> HI = List.of(Map.of("role", "user", "content", "hi"));

    /** Probes what apply() puts in the context. */
    private static final String PROBE = "{{ bos_token }}|{{ eos_token }}|{{ tools is none }}|{{ add_generation_prompt }}"
            + "|{{ messages|length }}|{{ extra|default('-') }}";

    private Path config(String json) throws Exception {
        Path p = dir.resolve("tokenizer_config.json");
        Files.writeString(p, json);
        return p;
    }

    @Test
    void stringTemplateAndTokenObjects() throws Exception {
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(config("{\"chat_template\": \"" + PROBE + "\","
                + "\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\", \"lstrip\": false},"
                + "\"eos_token\": \"</s>\"}"));
        assertThat(t.bosToken()).isEqualTo("<s>");
        assertThat(t.apply(HI, true, Map.of())).isEqualTo("<s>|</s>|True|True|1|-");
        assertThat(t.apply(HI, false, Map.of("extra", "E", "eos_token", "override"))).isEqualTo("<s>|override|True|False|1|E");
        assertThat(t.apply(HI, false, Map.of("tools", List.of(Map.of("a", 1))))).isEqualTo("<s>|</s>|False|False|1|-");
    }

    @Test
    void listOfNamedTemplatesUsesDefault() throws Exception {
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(config("{\"chat_template\": ["
                + "{\"name\": \"tool_use\", \"template\": \"TOOLS\"}, {\"name\": \"default\", \"template\": \"DEFAULT\"}]}"));
        assertThat(t.apply(HI, true, null)).isEqualTo("DEFAULT");
        assertThat(t.bosToken()).isNull();

        Path noDefault = config("{\"chat_template\": [{\"name\": \"rag\", \"template\": \"R\"}]}");
        assertThatThrownBy(() -> ChatTemplate.fromTokenizerConfig(noDefault)).isInstanceOf(TemplateException.class)
                .hasMessageContaining("default");
    }

    @Test
    void unsetTokensAreUndefinedNotNone() throws Exception {
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(config(
                "{\"chat_template\": \"{{ bos_token is defined }}\", \"bos_token\": null}"));
        assertThat(t.apply(HI, false, Map.of())).isEqualTo("False");
    }

    @Test
    void siblingChatTemplateJinja() throws Exception {
        Files.writeString(dir.resolve("chat_template.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}\n");
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(config("{\"eos_token\": \"</s>\"}"));
        assertThat(t.apply(HI, false, Map.of())).isEqualTo("hi");
    }

    @Test
    void missingTemplateIsAnError() throws Exception {
        Path p = config("{\"eos_token\": \"</s>\"}");
        assertThatThrownBy(() -> ChatTemplate.fromTokenizerConfig(p)).isInstanceOf(TemplateException.class)
                .hasMessageContaining("no chat_template");
    }

    /** The date logic of Llama 3.2's template (verbatim excerpt). */
    private static final String LLAMA32_DATE = """
            {{- bos_token }}
            {%- if not date_string is defined %}
                {%- if strftime_now is defined %}
                    {%- set date_string = strftime_now("%d %b %Y") %}
                {%- else %}
                    {%- set date_string = "26 Jul 2024" %}
                {%- endif %}
            {%- endif %}
            {{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
            {{- "Cutting Knowledge Date: December 2023\\n" }}
            {{- "Today Date: " + date_string + "\\n\\n" }}
            """;

    @Test
    void dateStringCanBeInjectedOrComesFromTheClock() {
        ChatTemplate t = ChatTemplate.compile(LLAMA32_DATE);
        Map<String, Object> ctx = new HashMap<>(Map.of("bos_token", "<|begin_of_text|>", "date_string", "26 Jul 2024"));
        String header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: ";
        assertThat(t.render(ctx)).isEqualTo(header + "26 Jul 2024\n\n");

        Clock fixed = Clock.fixed(Instant.parse("2025-03-05T10:00:00Z"), ZoneOffset.UTC);
        ctx.remove("date_string");
        assertThat(t.withClock(fixed).render(ctx)).isEqualTo(header + "05 Mar 2025\n\n");
    }

    @Test
    void strftimeNowFormats() {
        Clock fixed = Clock.fixed(Instant.parse("2024-07-26T15:04:05Z"), ZoneOffset.UTC);
        ChatTemplate t = ChatTemplate.compile("{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %a %b %I%p %j %-d %%') }}")
                .withClock(fixed);
        assertThat(t.render(Map.of())).isEqualTo("2024-07-26 15:04:05 Friday July Fri Jul 03PM 208 26 %");
    }

    @Test
    void compiledTemplatesAreThreadSafe() throws Exception {
        ChatTemplate t = ChatTemplate.compile("{% set ns = namespace(n=0) %}{% for m in messages %}"
                + "{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor %}:{{ ns.n }}");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String c = "m" + i;
                results.add(pool.submit(() -> t.render(Map.of("messages", List.of(Map.of("content", c), Map.of("content", c))))));
            }
            for (int i = 0; i < 64; i++) {
                assertThat(results.get(i).get()).isEqualTo("m" + i + "m" + i + ":2");
            }
        } finally {
            pool.shutdown();
        }
    }
}
