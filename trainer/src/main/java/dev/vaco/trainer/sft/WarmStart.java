package dev.vaco.trainer.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.optim.OptimConfig;
import dev.vaco.trainer.config.SftConfig;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.learner.optim.AdamW;
import dev.vaco.learner.optim.Optimiser;
import dev.vaco.learner.optim.WarmupCosine;
import dev.vaco.trainer.StopRequest;
import dev.vaco.learner.Rollout;
import dev.vaco.learner.TrainBatch;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Supervised warm start: cross-entropy on worked solutions, so that RL starts from a policy whose pass rate is neither
 * 0 nor 1 (RL on a group whose rewards are all equal learns nothing).
 *
 * <pre>
 *   loss = - sum_{i, t in completion_i} log p(y_t | prompt_i, y_<t) / sum_i |completion_i|     (token mean)
 * </pre>
 * The completion is the solution followed by eos, so the model also learns to stop.
 */
public final class WarmStart {
    private WarmStart() {}

    /** Loss of the last step and the number of steps taken (fewer than configured if a stop was requested). */
    public record Report(int steps, double finalLoss, double seconds) {}

    public static Report run(TorchPolicy policy, NDManager root, SftConfig sft, OptimConfig optim, Iterator<Problem> data,
                             Prompts prompts, Consumer<String> log) {
        if (sft.steps() == 0) return new Report(0, Double.NaN, 0);
        long t0 = System.nanoTime();
        WarmupCosine schedule = new WarmupCosine(sft.lr(), sft.warmupSteps(), sft.steps(), 0.1);
        double last = Double.NaN, smoothed = Double.NaN;
        try (Optimiser opt = new Optimiser(new AdamW(root, optim.beta1(), optim.beta2(), optim.eps(), optim.weightDecay()),
                schedule, 1.0)) {
            for (int step = 0; step < sft.steps(); step++) {
                if (StopRequest.requested()) return new Report(step, last, (System.nanoTime() - t0) / 1e9);
                double lossValue = step(policy, root, opt, data, sft.batchSize(), prompts);
                last = lossValue;
                smoothed = Double.isNaN(smoothed) ? lossValue : 0.95 * smoothed + 0.05 * lossValue;
                // the mean needs ~20 steps to forget its start (the untrained model's loss)
                boolean reached = sft.targetLoss() > 0 && step >= 20 && smoothed <= sft.targetLoss();
                if (log != null && ((step + 1) % 50 == 0 || step + 1 == sft.steps() || reached)) {
                    log.accept(String.format("sft %4d/%d  loss %.4f  lr %.2e  %.0f s", step + 1, sft.steps(), smoothed,
                            schedule.lr(step), (System.nanoTime() - t0) / 1e9));
                }
                if (reached) {
                    if (log != null) log.accept(String.format("sft: loss target %.4f reached at step %d", sft.targetLoss(), step + 1));
                    return new Report(step + 1, last, (System.nanoTime() - t0) / 1e9);
                }
            }
        }
        return new Report(sft.steps(), last, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One optimiser step on the next {@code batchSize} examples, each a problem with its worked solution (or, for
     * rejection sampling, a verified sample standing in for one): the token-mean loss above. Returns the loss.
     */
    public static double step(TorchPolicy policy, NDManager root, Optimiser opt, Iterator<Problem> data, int batchSize,
                              Prompts prompts) {
        List<Rollout> batch = new ArrayList<>();
        for (int i = 0; i < batchSize; i++) {
            Problem p = data.next();
            int[] completion = prompts.completionIds(p);
            batch.add(new Rollout(p, i, prompts.build(p).ids(), completion, new float[completion.length],
                    new long[completion.length], 1f, "CORRECT", "stop"));
        }
        double lossValue;
        try (NDManager m = root.newSubManager()) {
            TrainBatch b = TrainBatch.build(m, batch, 0, 0);
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                scope.suppressNotUsedWarning();
                NDArray logp = policy.tokenLogProbs(b.tokens(), b.targets());      // [B, T]
                NDArray loss = logp.mul(b.mask()).sum().div(b.mask().sum()).neg(); // token mean
                gc.backward(loss);
                lossValue = loss.getFloat();
            }
            opt.step(policy.trainable(), lossValue);
        }
        return lossValue;
    }
}
