package dev.vaco.trainer.config;

import dev.vaco.fleet.ClusterConfig;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.learner.optim.OptimConfig;
import dev.vaco.learner.objective.ObjectiveConfig;
import static dev.vaco.model.ConfigException.require;

/**
 * The trainer's whole configuration: every default is in the sections' {@code defaults()}; files and command-line
 * overrides hold only what differs ({@link ConfigLoader}). Keys are snake_case: {@code objective.rho_bar}.
 */
public record TrainConfig(
        ObjectiveConfig objective,
        OptimConfig optim,
        LoraConfig lora,
        RolloutConfig rollout,
        SftConfig sft,
        RunConfig run,
        PipelineConfig pipeline,
        ClusterConfig cluster,
        DashboardConfig dashboard) {

    public TrainConfig {
        require(objective != null, "objective", "a section", null);
        require(optim != null, "optim", "a section", null);
        require(lora != null, "lora", "a section", null);
        require(rollout != null, "rollout", "a section", null);
        require(sft != null, "sft", "a section", null);
        require(run != null, "run", "a section", null);
        require(pipeline != null, "pipeline", "a section", null);
        require(cluster != null, "cluster", "a section", null);
        require(dashboard != null, "dashboard", "a section", null);
        require(optim.warmupSteps() < run.steps(), "optim.warmup_steps",
                "fewer than run.steps = " + run.steps(), optim.warmupSteps());
        require(sft.levels().isEmpty() || run.dataset().equals("synthetic"), "sft.levels",
                "empty unless run.dataset is synthetic (levels are the built-in task's)", "'" + sft.levels() + "'");
    }

    public static TrainConfig defaults() {
        return new TrainConfig(ObjectiveConfig.defaults(), OptimConfig.defaults(), LoraConfig.defaults(),
                RolloutConfig.defaults(),
                SftConfig.defaults(), RunConfig.defaults(), PipelineConfig.defaults(), ClusterConfig.defaults(),
                DashboardConfig.defaults());
    }

    /** The demonstrations' levels: {@code sft.levels}, or {@code run.levels} when it is empty. */
    public dev.vaco.datasets.LevelMix sftMix() {
        return sft.levels().isEmpty() ? run.levelMix() : RunConfig.mix(sft.levels());
    }

    /** Whether the demonstrations cover other levels than RL's (then each level has its own held-out share). */
    public boolean levelsApart() {
        return !sftMix().equals(run.levelMix());
    }

    /**
     * The held-out levels: {@code run.levels}' mix, or when the demonstrations cover other levels, every level of
     * either, evaluated level by level.
     */
    public dev.vaco.datasets.LevelMix heldOutMix() {
        if (!levelsApart()) return run.levelMix();
        var rl = run.levelMix().weights();
        var demo = sftMix().weights();
        int[] levels = java.util.stream.IntStream.range(0, rl.size()).filter(i -> rl.get(i) > 0 || demo.get(i) > 0)
                .map(i -> i + 1).toArray();
        return dev.vaco.datasets.LevelMix.of(levels);
    }
}
