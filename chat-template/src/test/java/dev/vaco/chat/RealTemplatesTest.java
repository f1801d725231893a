package dev.vaco.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real Qwen3 and Llama 3 chat templates from {@code ../shared/models}, rendered as transformers'
 * {@code apply_chat_template(..., tokenize=False)} renders them. Each expected string was derived
 * by hand from the template text (the derivation is in the comments) and cross-checked against
 * Jinja2 3.1.6 configured like transformers (ImmutableSandboxedEnvironment, trim_blocks,
 * lstrip_blocks, loopcontrols, HF's tojson/raise_exception/strftime_now).
 */
class RealTemplatesTest {

    private static ChatTemplate qwen3;
    private static ChatTemplate llama3;

    private static final Map<String, Object> SYSTEM = Map.of("role", "system", "content", "You are helpful.");
    private static final Map<String, Object> USER = Map.of("role", "user", "content", "What is 2+2?");
    private static final Map<String, Object> USER2 = Map.of("role", "user", "content", "And 3+3?");
    private static final Map<String, Object> ASSISTANT_PLAIN = Map.of("role", "assistant", "content", "4");
    private static final Map<String, Object> ASSISTANT_THINKING =
            Map.of("role", "assistant", "content", "<think>\nadd them\n</think>\n\n4");

    @BeforeAll
    static void load() {
        Path models = sharedModels();
        Assumptions.assumeTrue(models != null,
                "skipping real chat templates: no shared/models directory beside the project (../shared)");
        qwen3 = ChatTemplate.fromTokenizerConfig(models.resolve("qwen3-tokenizer/tokenizer_config.json"));
        llama3 = ChatTemplate.fromTokenizerConfig(models.resolve("llama3-tokenizer/tokenizer_config.json"));
    }

    /** Walks up from the working directory (tests run in model/) to find shared/models. */
    static Path sharedModels() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/models"))) {
                return p.resolve("shared/models");
            }
        }
        System.out.println("RealTemplatesTest: ../shared/models not found; real-template tests are skipped");
        return null;
    }

    // ---- Qwen3 ------------------------------------------------------------------------------

    @Test
    void qwen3TokensComeFromConfig() {
        assertThat(qwen3.eosToken()).isEqualTo("<|im_end|>");
        assertThat(qwen3.bosToken()).isNull(); // "bos_token": null in the config
    }

    @Test
    void qwen3SystemAndUserWithGenerationPrompt() {
        // tools is None -> system message printed on its own; the system message is skipped in the main
        // loop (role system and loop.first); the prompt ends with the assistant header and no think block.
        assertThat(qwen3.apply(List.of(SYSTEM, USER), true, Map.of())).isEqualTo(
                "<|im_start|>system\nYou are helpful.<|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void qwen3UserOnlyWithAndWithoutGenerationPrompt() {
        assertThat(qwen3.apply(List.of(USER), true, Map.of()))
                .isEqualTo("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(qwen3.apply(List.of(USER), false, Map.of()))
                .isEqualTo("<|im_start|>user\nWhat is 2+2?<|im_end|>\n");
    }

    @Test
    void qwen3EnableThinkingFalseAddsEmptyThinkBlock() {
        assertThat(qwen3.apply(List.of(USER), true, Map.of("enable_thinking", false)))
                .isEqualTo("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
        // enable_thinking=true is the default: nothing is added
        assertThat(qwen3.apply(List.of(USER), true, Map.of("enable_thinking", true)))
                .isEqualTo("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void qwen3MultiTurnDropsReasoningOfEarlierTurns() {
        // messages[::-1] finds the last user query at index 3; the assistant turn at index 2 is before it,
        // so only content = split('</think>')[-1].lstrip('\n') = "4" is kept.
        assertThat(qwen3.apply(List.of(SYSTEM, USER, ASSISTANT_THINKING, USER2), true, Map.of())).isEqualTo(
                "<|im_start|>system\nYou are helpful.<|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n4<|im_end|>\n"
                        + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void qwen3FinalAssistantTurnKeepsReasoning() {
        // last_query_index = 1; the assistant turn (index 2) is after it and is loop.last, so the
        // reasoning split out of <think>...</think> is re-emitted between "\n<think>\n" and "\n</think>\n\n".
        assertThat(qwen3.apply(List.of(SYSTEM, USER, ASSISTANT_THINKING), false, Map.of())).isEqualTo(
                "<|im_start|>system\nYou are helpful.<|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n");
    }

    @Test
    void qwen3MultiTurnWithoutSystem() {
        assertThat(qwen3.apply(List.of(USER, ASSISTANT_PLAIN, USER2, ASSISTANT_THINKING), false, Map.of())).isEqualTo(
                "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n4<|im_end|>\n"
                        + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                        + "<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n");
    }

    @Test
    void qwen3LastAssistantWithoutThinkGetsEmptyThinkBlock() {
        // loop.last after the last query: the think block is printed even with empty reasoning_content.
        assertThat(qwen3.apply(List.of(USER, ASSISTANT_PLAIN), false, Map.of())).isEqualTo(
                "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>\n");
    }

    @Test
    void qwen3ReasoningContentField() {
        Map<String, Object> a = Map.of("role", "assistant", "content", "ok", "reasoning_content", "hmm");
        assertThat(qwen3.apply(List.of(USER, a), false, Map.of())).isEqualTo(
                "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n<think>\nhmm\n</think>\n\nok<|im_end|>\n");
    }

    @Test
    void qwen3ToolsAreSerializedLikePythonJsonDumps() throws Exception {
        // tools|tojson is json.dumps(..., ensure_ascii=False): ", " and ": " separators, key order kept.
        Object tool = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}",
                Object.class);
        String out = qwen3.apply(List.of(SYSTEM, USER), true, Map.of("tools", List.of(tool)));
        assertThat(out).isEqualTo(
                "<|im_start|>system\nYou are helpful.\n\n# Tools\n\nYou may call one or more functions to assist"
                        + " with the user query.\n\nYou are provided with function signatures within <tools></tools>"
                        + " XML tags:\n<tools>\n"
                        + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": "
                        + "{\"type\": \"object\"}}}\n</tools>\n\n"
                        + "For each function call, return a json object with function name and arguments within"
                        + " <tool_call></tool_call> XML tags:\n<tool_call>\n"
                        + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void qwen3ToolCallsAndToolResponses() {
        Map<String, Object> call = Map.of("role", "assistant", "content", "",
                "tool_calls", List.of(Map.of("type", "function",
                        "function", Map.of("name", "get_weather", "arguments", Map.of("city", "Paris")))));
        List<Map<String, Object>> msgs = List.of(USER, call,
                Map.of("role", "tool", "content", "sunny"), Map.of("role", "tool", "content", "22C"));
        // The last user query is index 0; the assistant turn after it is not loop.last and has no
        // reasoning, so no think block. Empty content: no "\n" before the first <tool_call>.
        // Consecutive tool messages share one user turn.
        assertThat(qwen3.apply(msgs, true, Map.of())).isEqualTo(
                "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                        + "{\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n<tool_response>\nsunny\n</tool_response>\n"
                        + "<tool_response>\n22C\n</tool_response><|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void qwen3UserContentIsDataNotTemplate() {
        Map<String, Object> evil = Map.of("role", "user", "content", "{{ raise_exception('x') }} {% if %}</think>");
        assertThat(qwen3.apply(List.of(evil), false, Map.of()))
                .isEqualTo("<|im_start|>user\n{{ raise_exception('x') }} {% if %}</think><|im_end|>\n");
    }

    // ---- Llama 3 ----------------------------------------------------------------------------

    @Test
    void llama3TokensComeFromConfig() {
        assertThat(llama3.bosToken()).isEqualTo("<|begin_of_text|>");
        assertThat(llama3.eosToken()).isEqualTo("<|end_of_text|>");
    }

    @Test
    void llama3SystemAndUser() {
        // bos_token only before the first message; content is |trim'ed; this (original Llama 3) template
        // has no date logic and always appends the assistant header.
        assertThat(llama3.apply(List.of(SYSTEM, USER), true, Map.of())).isEqualTo(
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void llama3WithoutSystemAndWithoutGenerationPrompt() {
        // add_generation_prompt is not read by this template: the header is appended regardless, as in HF.
        assertThat(llama3.apply(List.of(USER, ASSISTANT_PLAIN, USER2), false, Map.of())).isEqualTo(
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void llama3TrimsContent() {
        Map<String, Object> spaced = Map.of("role", "user", "content", "  spaced \n");
        assertThat(llama3.apply(List.of(spaced), true, Map.of())).isEqualTo(
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nspaced<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }
}
