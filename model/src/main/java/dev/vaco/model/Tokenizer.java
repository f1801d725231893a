package dev.vaco.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's binding of the Rust {@code tokenizers} library.
 *
 * <p>Two traps of the binding are closed here: it truncates at 512 tokens unless told otherwise (so truncation and
 * padding are switched off), and it turns special-token text inside any input into real special tokens. Rendered
 * chat templates need the latter; untrusted text (a user's message, a model's answer) must not get it, so
 * {@link #encodeText} encodes such text with specials broken apart.
 */
public final class Tokenizer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer hf;
    private final Map<String, Integer> specialIds;  // content -> id of every added token marked special
    private final List<String> specialsLongestFirst;
    private final int vocabSize;                    // highest id + 1, over the model vocabulary and added tokens
    private final String bosToken, eosToken;        // from tokenizer_config.json; null when absent
    private final Path tokenizerConfig;
    private final List<Integer> generationEosIds;   // generation_config.json's eos_token_id (int or list); empty if none

    private Tokenizer(HuggingFaceTokenizer hf, Map<String, Integer> specialIds, int vocabSize, String bos, String eos,
                      Path tokenizerConfig, List<Integer> generationEosIds) {
        this.hf = hf;
        this.specialIds = specialIds;
        this.specialsLongestFirst = new ArrayList<>(specialIds.keySet());
        this.specialsLongestFirst.sort(Comparator.comparingInt(String::length).reversed());
        this.vocabSize = vocabSize;
        this.bosToken = bos;
        this.eosToken = eos;
        this.tokenizerConfig = tokenizerConfig;
        this.generationEosIds = List.copyOf(generationEosIds);
    }

    /** Loads {@code tokenizer.json} and, when present, {@code tokenizer_config.json} from a model directory. */
    public static Tokenizer load(Path dir) {
        Path file = dir.resolve(ModelDir.TOKENIZER);
        if (!Files.isRegularFile(file)) throw new ModelFormatException(file + ": missing (a model directory needs tokenizer.json)");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (root == null || !root.has("model")) throw new ModelFormatException(file + ": no 'model' section");
        int maxId = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) for (JsonNode id : vocab) maxId = Math.max(maxId, id.asInt());
        else if (vocab.isArray()) maxId = vocab.size() - 1; // Unigram: [[piece, score], ...]
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            maxId = Math.max(maxId, t.path("id").asInt());
            if (t.path("special").asBoolean(false)) specials.put(t.path("content").asText(), t.path("id").asInt());
        }
        String bos = null, eos = null;
        Path cfg = dir.resolve(ModelDir.TOKENIZER_CONFIG);
        if (Files.isRegularFile(cfg)) {
            try {
                JsonNode c = JSON.readTree(Files.readString(cfg));
                bos = tokenText(c.get("bos_token"));
                eos = tokenText(c.get("eos_token"));
            } catch (IOException e) {
                throw new ModelFormatException(cfg + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
            }
        }
        List<Integer> generationEos = new ArrayList<>();
        Path gen = dir.resolve("generation_config.json");
        if (Files.isRegularFile(gen)) {
            try {
                JsonNode ids = JSON.readTree(Files.readString(gen)).path("eos_token_id");
                for (JsonNode id : ids.isArray() ? ids : JSON.createArrayNode().add(ids)) {
                    if (id.isNull() || id.isMissingNode()) continue;
                    if (!id.isIntegralNumber()) {
                        throw new ModelFormatException(gen + ": eos_token_id must be an integer or a list of them, found " + ids);
                    }
                    generationEos.add(id.intValue());
                }
            } catch (IOException e) {
                throw new ModelFormatException(gen + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
            }
        }
        try {
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "truncation", "false", "padding", "false", "addSpecialTokens", "false"));
            return new Tokenizer(hf, specials, maxId + 1, bos, eos, Files.isRegularFile(cfg) ? cfg : null, generationEos);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file + ": the tokenizers library refused it: " + e.getMessage(), e);
        }
    }

    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isObject()) return n.path("content").asText(null); // AddedToken form
        return n.asText();
    }

    /** Encodes trusted text (a rendered chat template): special-token text becomes the special token. */
    public int[] encode(String text) {
        return toInt(hf.encode(text, false, false).getIds());
    }

    /**
     * Encodes untrusted text: special-token text inside it stays text. Each occurrence is encoded in two halves so
     * that the tokenizer's added-token matcher cannot see it whole.
     */
    public int[] encodeText(String text) {
        if (specialsLongestFirst.isEmpty() || specialsLongestFirst.stream().noneMatch(text::contains)) return encode(text);
        List<int[]> parts = new ArrayList<>();
        int from = 0;
        while (from < text.length()) {
            int at = -1;
            String hit = null;
            for (String s : specialsLongestFirst) {
                int i = text.indexOf(s, from);
                if (i >= 0 && (at < 0 || i < at)) { at = i; hit = s; }
            }
            if (hit == null) { parts.add(encode(text.substring(from))); break; }
            if (at > from) parts.add(encode(text.substring(from, at)));
            int mid = Math.max(1, hit.length() / 2);
            parts.add(encode(hit.substring(0, mid)));
            parts.add(encode(hit.substring(mid)));
            from = at + hit.length();
        }
        return concat(parts);
    }

    /**
     * Encodes a rendered chat prompt. Special tokens the template wrote are real special tokens; special-token text
     * inside a message stays text, so a user cannot forge a turn. When no message holds such text the whole string
     * is encoded at once, exactly as Hugging Face's {@code apply_chat_template(tokenize=True)} does.
     *
     * @param contents the messages' contents, in the order the template renders them
     */
    public int[] encodeChat(String rendered, List<String> contents) {
        boolean suspicious = false;
        for (String c : contents) {
            for (String s : specialsLongestFirst) if (c.contains(s)) { suspicious = true; break; }
        }
        if (!suspicious) return encode(rendered);
        List<int[]> parts = new ArrayList<>();
        int from = 0;
        for (String c : contents) {
            int at = c.isEmpty() ? -1 : rendered.indexOf(c, from);
            if (at < 0) continue;
            if (at > from) parts.add(encode(rendered.substring(from, at)));
            parts.add(encodeText(c));
            from = at + c.length();
        }
        if (from < rendered.length()) parts.add(encode(rendered.substring(from)));
        return concat(parts);
    }

    private static int[] concat(List<int[]> parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int k = 0;
        for (int[] p : parts) { System.arraycopy(p, 0, out, k, p.length); k += p.length; }
        return out;
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, skipSpecialTokens);
    }

    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The id of a special token's text, or -1. */
    public int specialId(String content) {
        Integer id = content == null ? null : specialIds.get(content);
        return id == null ? -1 : id;
    }

    public Set<Integer> specialIds() {
        return new LinkedHashSet<>(specialIds.values());
    }

    public int vocabSize() {
        return vocabSize;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    public int eosId() {
        return specialId(eosToken);
    }

    /**
     * Every id that ends a generation: the tokenizer's eos and {@code generation_config.json}'s {@code eos_token_id}
     * (Llama 3.1 Instruct lists three; vLLM stops on all of them).
     */
    public java.util.Set<Integer> eosIds() {
        java.util.Set<Integer> ids = new java.util.LinkedHashSet<>();
        if (eosId() >= 0) ids.add(eosId());
        ids.addAll(generationEosIds);
        return ids;
    }

    /** {@code tokenizer_config.json}, which holds the chat template; null when the directory has none. */
    public Path tokenizerConfig() {
        return tokenizerConfig;
    }

    private static int[] toInt(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    @Override
    public void close() {
        hf.close();
    }
}
