package dev.vaco.server.batch;

import dev.vaco.server.sampling.SamplingParams;

/**
 * One prompt to complete {@code params.n()} times.
 *
 * @param promptIds     [P] token ids, produced once by the caller and never re-tokenised
 * @param params        sampling parameters (validated)
 * @param pinnedVersion sample with exactly this resident policy version; null = the live version, which may change
 *                      mid-sequence when new weights arrive (every token is tagged with the version that sampled it)
 * @param adapter       a named adapter of {@code --lora-modules} to sample with; null = the base model's versions
 */
public record GenerationRequest(int[] promptIds, SamplingParams params, Long pinnedVersion, String adapter) {
    public GenerationRequest(int[] promptIds, SamplingParams params, Long pinnedVersion) {
        this(promptIds, params, pinnedVersion, null);
    }
}
