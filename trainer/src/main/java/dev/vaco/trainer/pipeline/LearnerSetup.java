package dev.vaco.trainer.pipeline;

import dev.vaco.learner.Checkpoint;
import dev.vaco.learner.Learner;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the RL run's learner is made of: the policy it trains, the frozen reference of the KL term, and the parts of
 * the run's configuration a learner step reads. LoRA adapters attach in {@link #policy}; a checkpoint then restores
 * and a push (WeightSync) carries only the adapter.
 */
final class LearnerSetup {
    private LearnerSetup() {}

    /** The policy the run trains, from the starting model's weights. */
    static TorchPolicy policy(ModelDir.Loaded model) {
        return TorchPolicy.create(model.config(), model.weights());
    }

    /**
     * The KL term's reference, as verl's: the weights RL starts from (after the warm start), frozen; null when
     * {@code objective.kl_coef} is 0. A fresh run copies {@code policy} now; a resumed one reads the weights back from
     * the step-0 checkpoint every run writes.
     */
    static TorchPolicy reference(TrainConfig cfg, ModelDir.Loaded model, TorchPolicy policy, Path runDir, boolean resumed)
            throws IOException {
        if (cfg.objective().klCoef() == 0) return null;
        if (!resumed) return TorchPolicy.create(model.config(), policy.exportWeights());
        Path start = runDir.resolve("checkpoints").resolve("step-0");
        if (!Files.isRegularFile(start.resolve(Checkpoint.STATE))) {
            throw new IOException(start + ": objective.kl_coef > 0 needs the run's step-0 checkpoint (the KL reference)"
                    + " to resume, and it is missing");
        }
        return TorchPolicy.create(model.config(), ModelDir.load(start).weights());
    }

    /** The parts of the run's configuration a learner step reads. */
    static Learner.Settings settings(TrainConfig cfg) {
        return new Learner.Settings(cfg.objective(), cfg.rollout().temperature(), cfg.rollout().updatesPerBatch(),
                cfg.optim().minibatches(), cfg.run().seed());
    }
}
