package dev.vaco.trainer.config;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code sft.*}: supervised warm start before RL (same AdamW betas / eps / decay as {@code optim}).
 *
 * @param steps       optimiser steps; 0 = skip the warm start [200]
 * @param lr          peak learning rate [1e-3]
 * @param batchSize   examples per step [32]
 * @param warmupSteps linear warm-up steps, then cosine to 0.1 * lr [20]
 * @param seed        seed of the warm start: the built-in model's initialisation and the order of its examples; -1 =
 *                    {@code run.seed} [-1]. RL studies compare seeds from one warm-start checkpoint; on the built-in
 *                    task the warm start's outcome after a fixed number of steps swings with its seed (7.8% to 50%
 *                    held-out after 800 steps: the loss falls in a sudden drop whose timing varies), so the demo fixes
 *                    it and lets {@code run.seed} vary the RL data and sampling.
 * @param levels      the synthetic levels that have worked solutions (the demonstrations), e.g. "6,7"; "" = those of
 *                    {@code run.levels}. RL draws its problems from {@code run.levels} and uses only their final
 *                    answers; held-out accuracy is reported for both sets of levels, each level on its own [""]
 * @param targetLoss  end the warm start early once its smoothed loss (an exponential mean over ~20 steps) is at or
 *                    below this; 0 = off, {@code steps} is then exact [0]. A criterion that survives a change of
 *                    summation order, where a fixed step count can stop just before or just after the loss's drop
 * @param demonstrations how many worked solutions there are: the warm start (and the demo's SFT control) cycle over
 *                    the first this many distinct training problems of the demonstrated levels, reshuffled every
 *                    pass, while RL draws the other training problems, with their final answers only; 0 = a worked
 *                    solution for every training problem [0] (BENCHMARKS.md, "Two more probes")
 */
public record SftConfig(int steps, double lr, int batchSize, int warmupSteps, long seed, String levels, double targetLoss,
                        int demonstrations) {

    public SftConfig {
        require(steps >= 0, "sft.steps", "an integer >= 0", steps);
        require(lr > 0 && lr < 1, "sft.lr", "a number in (0, 1)", lr);
        require(batchSize >= 1, "sft.batch_size", "an integer >= 1", batchSize);
        require(warmupSteps >= 0 && (steps == 0 || warmupSteps < steps), "sft.warmup_steps",
                "an integer in [0, sft.steps = " + steps + ")", warmupSteps);
        require(seed >= -1, "sft.seed", "an integer >= 0, or -1 for run.seed", seed);
        require(levels != null && (levels.isEmpty() || levels.matches(RunConfig.LEVEL_LIST)), "sft.levels",
                "empty (run.levels) or a comma-separated list of levels 1-9", "'" + levels + "'");
        require(targetLoss >= 0 && Double.isFinite(targetLoss), "sft.target_loss", "a number >= 0 (0 = off)", targetLoss);
        require(demonstrations >= 0, "sft.demonstrations", "an integer >= 0 (0 = every training problem)", demonstrations);
    }

    public static SftConfig defaults() {
        return new SftConfig(200, 1e-3, 32, 20, -1, "", 0, 0);
    }

    /** The warm start's seed: {@code seed}, or the run's when it is -1. */
    public long seedOr(long runSeed) {
        return seed < 0 ? runSeed : seed;
    }
}
