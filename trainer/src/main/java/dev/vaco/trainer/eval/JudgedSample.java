package dev.vaco.trainer.eval;

/**
 * One model completion for a problem, as judged by the verifier.
 *
 * @param answer  the extracted final answer, or null when none could be extracted
 * @param correct whether the verifier accepted it
 */
public record JudgedSample(String answer, boolean correct) {
}
