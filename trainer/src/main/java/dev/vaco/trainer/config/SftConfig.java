package dev.vaco.trainer.config;

import static dev.vaco.trainer.config.ConfigException.require;

/**
 * {@code sft.*}: supervised warm start before RL (same AdamW betas / eps / decay as {@code optim}).
 *
 * @param steps       optimiser steps; 0 = skip the warm start [200]
 * @param lr          peak learning rate [1e-3]
 * @param batchSize   examples per step [32]
 * @param warmupSteps linear warm-up steps, then cosine to 0.1 * lr [20]
 */
public record SftConfig(int steps, double lr, int batchSize, int warmupSteps) {

    public SftConfig {
        require(steps >= 0, "sft.steps", "an integer >= 0", steps);
        require(lr > 0 && lr < 1, "sft.lr", "a number in (0, 1)", lr);
        require(batchSize >= 1, "sft.batch_size", "an integer >= 1", batchSize);
        require(warmupSteps >= 0 && (steps == 0 || warmupSteps < steps), "sft.warmup_steps",
                "an integer in [0, sft.steps = " + steps + ")", warmupSteps);
    }

    public static SftConfig defaults() {
        return new SftConfig(200, 1e-3, 32, 20);
    }
}
