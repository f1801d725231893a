package dev.vaco.trainer.pipeline;

import dev.vaco.learner.Checkpoint;
import dev.vaco.learner.Learner;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the RL run's learner is made of: the policy it trains, the frozen reference of the KL term, and the parts of
 * the run's configuration a learner step reads. LoRA adapters ({@code lora.r > 0}) attach in {@link #policy}: the
 * base is frozen, checkpoints hold the adapter, pushes carry the adapter alone to servers with LoRA inputs and the
 * merged weights ({@code TorchPolicy.exportWeights}) to others ({@link WeightSync}).
 */
final class LearnerSetup {
    private LearnerSetup() {}

    /** The policy the run trains, from the starting model's weights. */
    static TorchPolicy policy(TrainConfig cfg, ModelDir.Loaded model) {
        return TorchPolicy.create(model.config(), model.weights(), cfg.lora(), cfg.run().seed());
    }

    /**
     * The KL term's reference, as verl's: the weights RL starts from (after the warm start), frozen; null when
     * {@code objective.kl_coef} is 0. A fresh run copies {@code policy} now; a resumed one reads the weights back from
     * the step-0 checkpoint every run writes. Under LoRA it is the base with the adapters off, sharing the policy's
     * arrays (PEFT's {@code disable_adapter()}, as TRL does): no second copy, and the same on resume. With a LoRA warm
     * start that is the model before the warm start, whose adapter RL goes on training.
     */
    static TorchPolicy reference(TrainConfig cfg, ModelDir.Loaded model, TorchPolicy policy, Path runDir, boolean resumed)
            throws IOException {
        if (cfg.objective().klCoef() == 0) return null;
        if (policy.lora() != null) return policy.withoutAdapter();
        if (!resumed) return TorchPolicy.create(model.config(), policy.exportWeights());
        Path start = runDir.resolve("checkpoints").resolve("step-0");
        if (!Files.isRegularFile(start.resolve(Checkpoint.STATE))) {
            throw new IOException(start + ": objective.kl_coef > 0 needs the run's step-0 checkpoint (the KL reference)"
                    + " to resume, and it is missing");
        }
        return TorchPolicy.create(model.config(), ModelDir.load(start).weights());
    }

    /**
     * The run's final export: the model under {@code final-model/}; under LoRA the adapter in PEFT's format under
     * {@code final-adapter/} (with the tokenizer, as PEFT saves it), and the merged model too when
     * {@code lora.save_merged}. Returns the directory to report.
     */
    static Path exportFinal(TrainConfig cfg, Path modelDir, ModelDir.Loaded model, TorchPolicy policy, Path runDir)
            throws IOException {
        Path merged = runDir.resolve("final-model");
        Checkpoint.deleteTree(merged);
        if (policy.lora() == null || cfg.lora().saveMerged()) {
            ModelDir.save(merged, model.config(), policy.exportWeights());
            ModelDir.copyTokenizer(modelDir, merged);
        }
        if (policy.lora() == null) return merged;
        Path adapter = runDir.resolve("final-adapter");
        Checkpoint.deleteTree(adapter);
        AdapterFiles.write(adapter, new AdapterFiles.Adapter(policy.lora(), modelDir.toAbsolutePath().toString(),
                policy.exportAdapter()));
        ModelDir.copyTokenizer(modelDir, adapter);
        return adapter;
    }

    /** The parts of the run's configuration a learner step reads. */
    static Learner.Settings settings(TrainConfig cfg) {
        return new Learner.Settings(cfg.objective(), cfg.rollout().temperature(), cfg.rollout().updatesPerBatch(),
                cfg.optim().minibatches(), cfg.run().seed());
    }
}
