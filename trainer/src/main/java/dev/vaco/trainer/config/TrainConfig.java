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
    }

    public static TrainConfig defaults() {
        return new TrainConfig(ObjectiveConfig.defaults(), OptimConfig.defaults(), LoraConfig.defaults(),
                RolloutConfig.defaults(),
                SftConfig.defaults(), RunConfig.defaults(), PipelineConfig.defaults(), ClusterConfig.defaults(),
                DashboardConfig.defaults());
    }
}
