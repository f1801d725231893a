package dev.vaco.trainer.experiment;

import ai.djl.ndarray.NDManager;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tokenizer;
import dev.vaco.trainer.StopRequest;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.DataCursor;
import dev.vaco.trainer.sft.WarmStart;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

/**
 * The one warm start the runs of an experiment begin from (the demo's, on the same task), trained once and saved as a
 * model directory so that every run compares RL from the same weights.
 */
public final class SharedWarmStart {
    private SharedWarmStart() {}

    /**
     * Trains the warm start of {@code cfg} from a tiny model initialised under {@code <dir>-init} and saves it to
     * {@code dir}; on a stop request nothing is saved (the next run redoes it) and null is returned.
     */
    public static WarmStart.Report train(TrainConfig cfg, Path dir, PrintStream log) throws Exception {
        Path init = dir.resolveSibling(dir.getFileName() + "-init");
        long seed = cfg.sft().seedOr(cfg.run().seed());
        if (!Files.isRegularFile(init.resolve(ModelDir.CONFIG))) ModelInit.initTiny(init, seed);
        ModelDir.Loaded m = ModelDir.load(init);
        try (Tokenizer tok = Tokenizer.load(init);
             NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(m.config(), m.weights())) {
            Iterator<Problem> examples = cfg.sft().demonstrations() > 0 ? DataCursor.cycle(DataCursor.demonstrationPool(cfg), seed)
                    : DataCursor.synthetic(seed, cfg.sftMix(), cfg.run().evalProblems()).train();
            Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
            WarmStart.Report r = WarmStart.run(policy, root, cfg.sft(), cfg.optim(), examples, prompts, log::println);
            if (StopRequest.requested()) return null; // a partial warm start is not saved: the next run redoes it
            ModelDir.save(dir, m.config(), policy.exportWeights());
            ModelDir.copyTokenizer(init, dir);
            return r;
        }
    }
}
