package dev.vaco.learner.optim;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code optim.*}: AdamW, global-norm clipping, learning-rate schedule and minibatching of the RL phase.
 *
 * @param lr           peak learning rate [1e-5]
 * @param beta1        AdamW first-moment decay [0.9]
 * @param beta2        AdamW second-moment decay [0.999]
 * @param eps          AdamW denominator guard [1e-8]
 * @param weightDecay  decoupled weight decay per unit lr [0.01, torch's]
 * @param maxGradNorm  clip the global gradient norm to this; 0 = no clipping [1.0]
 * @param warmupSteps  linear warm-up steps, then cosine decay to lr * min_lr_ratio at run.steps [10]
 * @param minLrRatio   floor of the cosine, as a fraction of lr [0.1]
 * @param minibatches  minibatches per update over one batch [1]
 */
public record OptimConfig(
        double lr,
        double beta1,
        double beta2,
        double eps,
        double weightDecay,
        double maxGradNorm,
        int warmupSteps,
        double minLrRatio,
        int minibatches) {

    public OptimConfig {
        require(lr > 0 && lr < 1, "optim.lr", "a number in (0, 1)", lr);
        require(beta1 >= 0 && beta1 < 1, "optim.beta1", "a number in [0, 1)", beta1);
        require(beta2 >= 0 && beta2 < 1, "optim.beta2", "a number in [0, 1)", beta2);
        require(eps > 0 && eps < 1, "optim.eps", "a number in (0, 1)", eps);
        require(weightDecay >= 0 && weightDecay < 1, "optim.weight_decay", "a number in [0, 1)", weightDecay);
        require(maxGradNorm >= 0 && Double.isFinite(maxGradNorm), "optim.max_grad_norm",
                "a finite number >= 0 (0 = off)", maxGradNorm);
        require(warmupSteps >= 0, "optim.warmup_steps", "an integer >= 0", warmupSteps);
        require(minLrRatio >= 0 && minLrRatio <= 1, "optim.min_lr_ratio", "a number in [0, 1]", minLrRatio);
        require(minibatches >= 1, "optim.minibatches", "an integer >= 1", minibatches);
    }

    public static OptimConfig defaults() {
        return new OptimConfig(1e-5, 0.9, 0.999, 1e-8, 0.01, 1.0, 10, 0.1, 1);
    }
}
