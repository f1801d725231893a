package dev.vaco.trainer.config;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code pipeline.*}: the asynchronous pipeline (generation never waits for training, training never waits for a
 * whole batch of generation). The staleness bound eta is {@code rollout.max_staleness} (eta = 0 is the synchronous
 * loop), injected lag k is {@code rollout.lag}, forward lag u is {@code rollout.updates_per_batch}.
 *
 * @param pushEvery        push weights to the servers after every this many learner steps [1]
 * @param canaryPrompts    fixed prompts scored on the server and by the learner after each push (0 = off) [4]
 * @param canaryThreshold  largest |server - learner| log-prob accepted on the canaries; above it the push is rolled back [1e-3]
 * @param canaryThresholdInt8 the same for a server serving int8 weights ({@code vaco serve --quantization int8}), whose
 *                         log-probs are the quantized policy's, so this bounds the precision gap plus what a bad push
 *                         adds: it catches a grossly wrong push, not a subtle one [0.5]
 * @param canaryThresholdInt4 the same for an int4 server [2.0] (README "Quantized rollouts": the gaps measured)
 * @param corruptPushAt    fault injection for tests: corrupt the weights pushed at this learner step (-1 = never) [-1]
 * @param maxMinutes       stop RL once the run has used this many minutes of wall time, warm start included (0 = no
 *                         limit) [0]
 * @param serverThreads    ONNX Runtime threads of an embedded server [1]
 * @param learnerThreads   PyTorch threads of the learner [1]
 */
public record PipelineConfig(int pushEvery, int canaryPrompts, double canaryThreshold, double canaryThresholdInt8,
                             double canaryThresholdInt4, int corruptPushAt, double maxMinutes, int serverThreads,
                             int learnerThreads) {
    public PipelineConfig {
        require(pushEvery >= 1, "pipeline.push_every", "an integer >= 1", pushEvery);
        require(canaryPrompts >= 0 && canaryPrompts <= 64, "pipeline.canary_prompts", "an integer in [0, 64]", canaryPrompts);
        require(canaryThreshold > 0 && Double.isFinite(canaryThreshold), "pipeline.canary_threshold", "a finite number > 0",
                canaryThreshold);
        require(canaryThresholdInt8 > 0 && Double.isFinite(canaryThresholdInt8), "pipeline.canary_threshold_int8",
                "a finite number > 0", canaryThresholdInt8);
        require(canaryThresholdInt4 > 0 && Double.isFinite(canaryThresholdInt4), "pipeline.canary_threshold_int4",
                "a finite number > 0", canaryThresholdInt4);
        require(corruptPushAt >= -1, "pipeline.corrupt_push_at", "-1 or a learner step", corruptPushAt);
        require(maxMinutes >= 0 && Double.isFinite(maxMinutes), "pipeline.max_minutes", "a number >= 0 (0 = no limit)", maxMinutes);
        require(serverThreads >= 1, "pipeline.server_threads", "an integer >= 1", serverThreads);
        require(learnerThreads >= 1, "pipeline.learner_threads", "an integer >= 1", learnerThreads);
    }

    public static PipelineConfig defaults() {
        return new PipelineConfig(1, 4, 1e-3, 0.5, 2.0, -1, 0, 1, 1);
    }

    /** The canary threshold of a server that reports {@code quantization} ({@code none}, {@code int8}, {@code int4}). */
    public double canaryThreshold(String quantization) {
        return switch (quantization) {
            case "int8" -> canaryThresholdInt8;
            case "int4" -> canaryThresholdInt4;
            default -> canaryThreshold;
        };
    }
}
