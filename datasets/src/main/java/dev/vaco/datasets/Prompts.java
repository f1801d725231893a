package dev.vaco.datasets;

import dev.vaco.model.Tokenizer;
import dev.vaco.chat.ChatTemplate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns problems into prompt token ids, once: the ids built here are what the server samples from and what the
 * trainer trains on, so no text is ever re-tokenised on the way (re-tokenisation drift is a known peer bug).
 */
public final class Prompts {
    /** A problem with its prompt; {@code ids} are final. */
    public record Prompt(Problem problem, String text, int[] ids) {}

    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final PromptStyle style;
    private final List<Problem> shots;

    /**
     * @param template the model's chat template; required when {@code style.chat()}
     * @param fewShotPool problems with worked solutions; the first {@code style.fewShot()} are used
     */
    public Prompts(Tokenizer tokenizer, ChatTemplate template, PromptStyle style, List<Problem> fewShotPool) {
        if (style.chat() && template == null) {
            throw new IllegalArgumentException("chat prompts need the model's chat template (tokenizer_config.json has none)");
        }
        List<Problem> s = new ArrayList<>();
        for (Problem p : fewShotPool) {
            if (s.size() == style.fewShot()) break;
            if (p.solution() != null) s.add(p);
        }
        if (s.size() < style.fewShot()) {
            throw new IllegalArgumentException(style.fewShot() + " few-shot examples asked for, the pool has " + s.size()
                    + " problems with solutions");
        }
        this.tokenizer = tokenizer;
        this.template = template;
        this.style = style;
        this.shots = s;
    }

    public Prompt build(Problem p) {
        if (!style.chat()) {
            StringBuilder b = new StringBuilder();
            for (Problem shot : shots) b.append(plain(shot)).append(shot.solution()).append("\n\n");
            b.append(plain(p));
            String text = b.toString();
            return new Prompt(p, text, tokenizer.encodeText(text)); // plain templates hold no special tokens
        }
        List<Map<String, Object>> messages = new ArrayList<>();
        if (style.system() != null) messages.add(message("system", style.system()));
        for (Problem shot : shots) {
            messages.add(message("user", user(shot)));
            messages.add(message("assistant", shot.solution()));
        }
        messages.add(message("user", user(p)));
        String text = template.apply(messages, true, Map.of());
        List<String> contents = messages.stream().map(m -> (String) m.get("content")).toList();
        return new Prompt(p, text, tokenizer.encodeChat(text, contents));
    }

    /** The full text a supervised warm start trains on: prompt, worked solution, end of sequence. */
    public int[] completionIds(Problem p) {
        if (p.solution() == null) throw new IllegalArgumentException("problem " + p.id() + " has no worked solution");
        int[] sol = tokenizer.encodeText(p.solution());
        int eos = tokenizer.eosId();
        int[] out = java.util.Arrays.copyOf(sol, sol.length + (eos >= 0 ? 1 : 0));
        if (eos >= 0) out[sol.length] = eos;
        return out;
    }

    private String plain(Problem p) {
        return style.template().replace("{question}", p.question());
    }

    private String user(Problem p) {
        return style.instruction() == null ? p.question() : p.question() + "\n" + style.instruction();
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
