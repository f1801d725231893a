package dev.vaco.trainer.config;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code run.*}: one run's identity and cadence.
 *
 * @param seed            seeds sampling, minibatch order and initialisation [0]
 * @param steps           learner steps (RL iterations) [100]
 * @param outDir          directory for checkpoints, metrics and the resolved config [runs/default]
 * @param checkpointEvery steps between checkpoints; 0 = only at the end [50]
 * @param evalEvery       steps between evaluations; 0 = only at the end [25]
 * @param model           "builtin" (the tiny model, initialised with the seed) or a Hugging Face model directory [builtin]
 * @param dataset         training problems: "synthetic" (the built-in task) or a dataset as vaco eval takes it [synthetic]
 * @param evalDataset     held-out problems, a dataset as vaco eval takes it (e.g. a test file); empty: the synthetic
 *                        task's test side, a Hub dataset's test split, or, for a file, its first eval_problems problems,
 *                        which are then never trained on [""] (verl's data.val_files)
 * @param evalProblems    held-out problems in each greedy evaluation [500]
 * @param levels          synthetic difficulty levels to draw from, e.g. "1,2,3"; "all" = the generator's default mix [all]
 * @param targetAccuracy  stop once a held-out evaluation reaches this accuracy; 0 = off [0] (time-to-accuracy runs)
 */
public record RunConfig(long seed, int steps, String outDir, int checkpointEvery, int evalEvery, String model,
                        String dataset, String evalDataset, int evalProblems, String levels, double targetAccuracy) {

    public RunConfig {
        require(steps >= 1, "run.steps", "an integer >= 1", steps);
        require(outDir != null && !outDir.isBlank(), "run.out_dir", "a non-empty path", "'" + outDir + "'");
        require(checkpointEvery >= 0, "run.checkpoint_every", "an integer >= 0", checkpointEvery);
        require(evalEvery >= 0, "run.eval_every", "an integer >= 0", evalEvery);
        require(model != null && !model.isBlank(), "run.model", "builtin or a model directory", "'" + model + "'");
        require(dataset != null && !dataset.isBlank(), "run.dataset", "synthetic or a dataset", "'" + dataset + "'");
        require(evalDataset != null, "run.eval_dataset", "a dataset or empty", "null");
        require(evalProblems >= 1, "run.eval_problems", "an integer >= 1", evalProblems);
        require(levels != null && (levels.equals("all") || levels.matches(LEVEL_LIST)), "run.levels",
                "all or a comma-separated list of levels 1-9", "'" + levels + "'");
        require(targetAccuracy >= 0 && targetAccuracy <= 1, "run.target_accuracy", "a number in [0, 1] (0 = off)", targetAccuracy);
    }

    /** A comma-separated list of synthetic levels. */
    static final String LEVEL_LIST = "[1-9](,[1-9])*";

    /** The level mix of the synthetic task. */
    public dev.vaco.datasets.LevelMix levelMix() {
        return mix(levels);
    }

    /** "all" = the generator's default mix; else uniform over the listed levels. */
    public static dev.vaco.datasets.LevelMix mix(String levels) {
        if (levels.equals("all")) return dev.vaco.datasets.LevelMix.DEFAULT;
        return dev.vaco.datasets.LevelMix.of(java.util.Arrays.stream(levels.split(",")).mapToInt(Integer::parseInt).toArray());
    }

    public static RunConfig defaults() {
        return new RunConfig(0, 100, "runs/default", 50, 25, "builtin", "synthetic", "", 500, "all", 0);
    }
}
