package dev.vaco.trainer.config;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code rollout.*}: sampling, and the policy lag of the experiment (spec "Lag experiments").
 *
 * @param groupSize       G, responses sampled per prompt [8]
 * @param promptsPerStep  prompts per learner step; batch = prompts_per_step * group_size responses [16]
 * @param temperature     sampling temperature, > 0 [1.0]
 * @param maxTokens       maximum completion length in tokens [256]
 * @param maxStaleness    eta: admission control keeps every trained token within this many versions of the learner;
 *                        nothing is dropped (dropping biases training toward short answers) [4]
 * @param lag             k: rollouts sample with weights k versions behind the learner (backward lag) [0]
 * @param updatesPerBatch u: gradient updates (epochs) per batch (forward lag) [1]
 */
public record RolloutConfig(
        int groupSize,
        int promptsPerStep,
        double temperature,
        int maxTokens,
        int maxStaleness,
        int lag,
        int updatesPerBatch) {

    public RolloutConfig {
        require(groupSize >= 2, "rollout.group_size", "an integer >= 2 (group-relative advantages)", groupSize);
        require(promptsPerStep >= 1, "rollout.prompts_per_step", "an integer >= 1", promptsPerStep);
        require(temperature > 0 && Double.isFinite(temperature), "rollout.temperature", "a finite number > 0",
                temperature);
        require(maxTokens >= 1, "rollout.max_tokens", "an integer >= 1", maxTokens);
        require(maxStaleness >= 0, "rollout.max_staleness", "an integer >= 0", maxStaleness);
        require(lag >= 0 && lag <= maxStaleness, "rollout.lag",
                "an integer in [0, rollout.max_staleness = " + maxStaleness + "]", lag);
        require(updatesPerBatch >= 1, "rollout.updates_per_batch", "an integer >= 1", updatesPerBatch);
    }

    public static RolloutConfig defaults() {
        return new RolloutConfig(8, 16, 1.0, 256, 4, 0, 1);
    }
}
