package dev.vaco.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.chat.Values.Callable;
import dev.vaco.chat.Values.Namespace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A compiled Hugging Face chat template (a Jinja template rendered the way transformers'
 * {@code apply_chat_template} renders it).
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.fromTokenizerConfig(dir.resolve("tokenizer_config.json"));
 * String prompt = t.apply(List.of(Map.of("role", "user", "content", "Hi")), true, Map.of());
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe. Message content is data: it is printed verbatim and
 * never evaluated as template code. Templates are trusted configuration.
 */
public final class ChatTemplate {

    /** transformers' sandbox caps {@code range()} at this many items (jinja2.sandbox.MAX_RANGE). */
    private static final long MAX_RANGE = 100_000;

    private static final List<String> SPECIAL_TOKENS =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private final List<Node> ast;
    private final Set<String> undefinedAtStart;
    private final Map<String, Object> specialTokens;
    private final Clock clock;

    private ChatTemplate(List<Node> ast, Map<String, Object> specialTokens, Clock clock) {
        this.ast = ast;
        this.undefinedAtStart = Scoping.undefinedAtStart(ast);
        this.specialTokens = specialTokens;
        this.clock = clock;
    }

    /** Parses a template; throws {@link TemplateException} naming line and column on a syntax error. */
    public static ChatTemplate compile(String source) {
        Objects.requireNonNull(source, "source");
        try {
            return new ChatTemplate(Parser.parse(source), Map.of(), Clock.systemDefaultZone());
        } catch (StackOverflowError e) {
            throw new TemplateException("template nested too deeply to parse");
        }
    }

    /**
     * Reads {@code chat_template} (a string, or a list of {@code {name, template}} of which "default"
     * is used) and the special tokens ({@code bos_token}, {@code eos_token}, ...; strings or
     * {@code {"content": ...}} objects) from a tokenizer_config.json. When the config has no
     * template, a sibling {@code chat_template.jinja} or {@code chat_template.json} is used, as
     * newer transformers releases save it there.
     */
    public static ChatTemplate fromTokenizerConfig(Path tokenizerConfigJson) {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode cfg;
        try {
            cfg = mapper.readTree(tokenizerConfigJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerConfigJson, e);
        }
        String source = templateSource(cfg.get("chat_template"));
        Path dir = tokenizerConfigJson.toAbsolutePath().getParent();
        try {
            if (source == null && Files.exists(dir.resolve("chat_template.jinja"))) {
                source = Files.readString(dir.resolve("chat_template.jinja"), StandardCharsets.UTF_8);
            } else if (source == null && Files.exists(dir.resolve("chat_template.json"))) {
                source = templateSource(mapper.readTree(dir.resolve("chat_template.json").toFile()).get("chat_template"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chat template beside " + tokenizerConfigJson, e);
        }
        if (source == null) {
            throw new TemplateException(tokenizerConfigJson + " has no chat_template");
        }
        Map<String, Object> tokens = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKENS) {
            String t = tokenContent(cfg.get(name));
            if (t != null) { // transformers' special_tokens_map leaves unset tokens out: they are undefined
                tokens.put(name, t);
            }
        }
        JsonNode extra = cfg.get("additional_special_tokens");
        if (extra != null && extra.isArray()) {
            List<Object> list = new ArrayList<>();
            extra.forEach(n -> list.add(tokenContent(n)));
            tokens.put("additional_special_tokens", list);
        }
        ChatTemplate t = compile(source);
        return new ChatTemplate(t.ast, Map.copyOf(tokens), t.clock);
    }

    private static String templateSource(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode entry : node) {
                if ("default".equals(entry.path("name").asText())) {
                    return entry.path("template").asText();
                }
            }
            throw new TemplateException("this model has multiple chat templates and none is named 'default'");
        }
        throw new TemplateException("chat_template must be a string or a list of {name, template}");
    }

    private static String tokenContent(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        JsonNode content = node.get("content");
        return content != null && content.isTextual() ? content.asText() : null;
    }

    /** A copy whose {@code strftime_now()} reads this clock (in its zone): for reproducible prompts. */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(ast, specialTokens, Objects.requireNonNull(clock, "clock"));
    }

    /** The BOS token from the tokenizer config, or null. */
    public String bosToken() {
        return (String) specialTokens.get("bos_token");
    }

    /** The EOS token from the tokenizer config, or null. */
    public String eosToken() {
        return (String) specialTokens.get("eos_token");
    }

    /**
     * Renders with exactly the given variables (plus the globals {@code range}, {@code namespace},
     * {@code dict}, {@code raise_exception}, {@code strftime_now}). Values may be Java strings,
     * numbers, booleans, null, Lists, Maps, arrays or Jackson JsonNodes; other objects are passed
     * as their toString(). Map key order is what templates iterate and {@code tojson} prints, so
     * pass insertion-ordered maps (LinkedHashMap, Jackson-parsed JSON) for tool schemas, not Map.of.
     */
    public String render(Map<String, Object> context) {
        Interpreter.Scope globals = new Interpreter.Scope(null);
        globals.vars.putAll(globals());
        Interpreter.Scope ctx = new Interpreter.Scope(globals);
        if (context != null) {
            for (Map.Entry<String, Object> e : context.entrySet()) {
                ctx.vars.put(e.getKey(), Values.normalize(e.getValue()));
            }
        }
        return new Interpreter().render(ast, undefinedAtStart, ctx);
    }

    /**
     * Renders a conversation as transformers' {@code apply_chat_template(messages, tools=None,
     * add_generation_prompt=..., tokenize=False, **extra)} does: the context holds the special
     * tokens from the tokenizer config, {@code messages}, {@code tools} and {@code documents} (None
     * unless given in {@code extra}), {@code add_generation_prompt}, and everything in {@code extra}
     * (e.g. {@code enable_thinking}, {@code date_string}).
     */
    public String apply(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> ctx = new LinkedHashMap<>(specialTokens);
        ctx.put("tools", null);
        ctx.put("documents", null);
        if (extra != null) {
            ctx.putAll(extra);
        }
        ctx.put("messages", Objects.requireNonNull(messages, "messages"));
        ctx.put("add_generation_prompt", addGenerationPrompt);
        return render(ctx);
    }

    private Map<String, Object> globals() {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("range", (Callable) (a, k) -> range(a));
        g.put("namespace", (Callable) (a, k) -> {
            Namespace ns = new Namespace();
            for (Object o : a) {
                if (o instanceof Map<?, ?> m) {
                    m.forEach((key, v) -> ns.attrs.put(String.valueOf(key), v));
                }
            }
            ns.attrs.putAll(k);
            return ns;
        });
        g.put("dict", (Callable) (a, k) -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (Object o : a) {
                if (o instanceof Map<?, ?> src) {
                    m.putAll(src);
                } else {
                    for (Object pair : Values.iterate(o)) {
                        List<Object> kv = Values.iterate(pair);
                        m.put(kv.get(0), kv.get(1));
                    }
                }
            }
            m.putAll(k);
            return m;
        });
        g.put("raise_exception", (Callable) (a, k) -> {
            throw TemplateException.raised(a.isEmpty() ? "" : Values.str(a.get(0)));
        });
        g.put("strftime_now", (Callable) (a, k) ->
                Strftime.format(a.isEmpty() ? "" : Values.str(a.get(0)), LocalDateTime.now(clock)));
        return g;
    }

    private static List<Object> range(List<Object> a) {
        for (Object o : a) {
            if (!Values.isInt(o)) {
                throw new TemplateException("range() arguments must be integers, got " + Values.typeName(o));
            }
        }
        long start = 0;
        long stop;
        long step = 1;
        if (a.size() == 1) {
            stop = Values.asLong(a.get(0));
        } else if (a.size() == 2 || a.size() == 3) {
            start = Values.asLong(a.get(0));
            stop = Values.asLong(a.get(1));
            step = a.size() == 3 ? Values.asLong(a.get(2)) : 1;
        } else {
            throw new TemplateException("range expected 1 to 3 arguments, got " + a.size());
        }
        if (step == 0) {
            throw new TemplateException("range() arg 3 must not be zero");
        }
        long n = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
        if (n > MAX_RANGE) {
            throw new TemplateException("range too big (the sandbox allows at most " + MAX_RANGE + " items)");
        }
        List<Object> out = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            out.add(start + i * step);
        }
        return out;
    }
}
