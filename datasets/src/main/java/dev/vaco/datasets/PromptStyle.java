package dev.vaco.datasets;

/**
 * How a problem becomes a prompt.
 *
 * @param chat        true: the model's chat template (tokenizer_config.json) renders system + user messages; false:
 *                    the plain {@code template} for base models
 * @param template    plain template; {@code {question}} is replaced by the question text
 * @param system      chat system prompt, or null for none
 * @param instruction appended to the question in chat mode (asks for the final answer in {@code \boxed{}})
 * @param fewShot     worked examples placed before the question (taken from a pool of problems with solutions)
 */
public record PromptStyle(boolean chat, String template, String system, String instruction, int fewShot) {
    public static final String BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";

    /** The built-in task: the question, a newline, then the model writes the worked solution. */
    public static final PromptStyle BUILT_IN = new PromptStyle(false, "{question}\n", null, null, 0);

    /** Base models without a chat template on a dataset (GSM8K, MATH): question, then "Answer:". */
    public static final PromptStyle PLAIN = new PromptStyle(false, "Question: {question}\nAnswer:", null, null, 0);

    /** Chat models (Qwen2.5-Math style): the question followed by the boxed-answer instruction. */
    public static final PromptStyle CHAT = new PromptStyle(true, null, null, BOXED_INSTRUCTION, 0);

    public PromptStyle {
        if (!chat && (template == null || !template.contains("{question}"))) {
            throw new IllegalArgumentException("a plain prompt template must contain {question}, found " + template);
        }
        if (fewShot < 0 || fewShot > 16) throw new IllegalArgumentException("fewShot must be in [0, 16], found " + fewShot);
    }

    public PromptStyle withFewShot(int k) {
        return new PromptStyle(chat, template, system, instruction, k);
    }
}
