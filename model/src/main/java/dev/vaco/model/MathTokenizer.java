package dev.vaco.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The built-in tokenizer of the tiny model: one token per printable ASCII character plus newline, and ChatML
 * special tokens. Written as an ordinary {@code tokenizer.json} (a BPE model with no merges, so every character is
 * its own token; a {@code Fuse} decoder, so decoding concatenates) that Hugging Face's own libraries load too.
 *
 * <p>Ids: 0 pad, 1 eos, 2/3 ChatML delimiters, 4 unk, then characters, then reserved ids up to {@link #VOCAB_SIZE}
 * (a multiple of 64 keeps the output matmul aligned).
 */
public final class MathTokenizer {
    public static final String PAD = "<|pad|>", EOS = "<|endoftext|>", IM_START = "<|im_start|>", IM_END = "<|im_end|>",
            UNK = "<|unk|>";
    public static final int VOCAB_SIZE = 128;
    public static final int PAD_ID = 0, EOS_ID = 1;

    /** ChatML, as Qwen2 uses it; the generation prompt opens the assistant turn. */
    static final String CHAT_TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
            + "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private MathTokenizer() {}

    public static void write(Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {PAD, EOS, IM_START, IM_END, UNK};
        for (int i = 0; i < specials.length; i++) {
            added.addObject().put("id", i).put("content", specials[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", UNK).putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < specials.length; i++) vocab.put(specials[i], i);
        int id = specials.length;
        vocab.put("\n", id++);
        for (char c = ' '; c <= '~'; c++) vocab.put(String.valueOf(c), id++);
        for (; id < VOCAB_SIZE; id++) vocab.put("<|reserved_" + id + "|>", id);
        model.putArray("merges");
        Files.writeString(dir.resolve(ModelDir.TOKENIZER), json.writerWithDefaultPrettyPrinter().writeValueAsString(root));

        ObjectNode cfg = json.createObjectNode();
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
        cfg.put("bos_token", (String) null);
        cfg.put("eos_token", EOS);
        cfg.put("pad_token", PAD);
        cfg.put("unk_token", UNK);
        cfg.put("model_max_length", 1 << 20);
        cfg.put("clean_up_tokenization_spaces", false);
        cfg.put("chat_template", CHAT_TEMPLATE);
        Files.writeString(dir.resolve(ModelDir.TOKENIZER_CONFIG), json.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
    }
}
