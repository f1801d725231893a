package dev.vaco.trainer.controls;

import ai.djl.ndarray.NDManager;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.Telemetry;
import dev.vaco.learner.optim.AdamW;
import dev.vaco.learner.optim.Optimiser;
import dev.vaco.learner.optim.WarmupCosine;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.trainer.StopRequest;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.sft.WarmStart;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A control arm: supervised training from the warm start for a wall-clock budget, on an endless stream of worked
 * solutions (the demonstrations for "sft", verified samples for "rft"), evaluated at evenly spaced shares of it.
 *
 * <pre>
 *   loss = WarmStart's token-mean cross-entropy;  lr: the warm start's AdamW, peak sft.lr, cosine to 0.1 sft.lr over
 *   the steps the budget holds at the warm start's measured seconds per step (no warm-up: the weights are trained)
 * </pre>
 * The budget counts training only; the evaluations (the same greedy pass over the held-out set as the RL run's) are
 * outside it, as they are for the RL arm's comparison.
 */
public final class SupervisedControl {
    private SupervisedControl() {}

    /** The arm's evaluations (the first at its start) and how much it trained. */
    public record Result(String name, List<HeldOutEval.Point> curve, int steps, double seconds) {
        public HeldOutEval.Point last() {
            return curve.get(curve.size() - 1);
        }
    }

    /**
     * @param offsetSeconds  the arm's time before this training (RFT's sampling): its evaluations are placed after it
     * @param secondsPerStep the warm start's measured time per step, to fit the lr schedule to the budget
     * @param evaluations    evaluations after the start, at equal shares of the budget (the last at its end)
     */
    public static Result train(String name, TorchPolicy policy, NDManager root, TrainConfig cfg, Iterator<Problem> examples,
                               Prompts prompts, double offsetSeconds, double budgetSeconds, double secondsPerStep, HeldOutEval eval,
                               int evaluations, Telemetry telemetry, PrintStream out) throws IOException, InterruptedException {
        List<HeldOutEval.Point> curve = new ArrayList<>();
        curve.add(eval.evaluateLive(0, 0, telemetry));
        int planned = Math.max(1, (int) (budgetSeconds / Math.max(secondsPerStep, 1e-3)));
        var sft = cfg.sft();
        var optim = cfg.optim();
        double trained = 0, lossMean = Double.NaN;
        int step = 0;
        try (Optimiser opt = new Optimiser(new AdamW(root, optim.beta1(), optim.beta2(), optim.eps(), optim.weightDecay()),
                new WarmupCosine(sft.lr(), 0, planned, 0.1), 1.0)) {
            for (int e = 1; e <= evaluations && !StopRequest.requested(); e++) {
                double until = budgetSeconds * e / evaluations;
                while (trained < until && !StopRequest.requested()) {
                    long t = System.nanoTime();
                    double loss = WarmStart.step(policy, root, opt, examples, sft.batchSize(), prompts);
                    trained += (System.nanoTime() - t) / 1e9;
                    lossMean = Double.isNaN(lossMean) ? loss : 0.95 * lossMean + 0.05 * loss;
                    step++;
                }
                out.printf("%s: %d steps, loss %.4f, %.0f of %.0f s%n", name, step, lossMean, trained, budgetSeconds);
                curve.add(eval.evaluate(policy, step, (offsetSeconds + trained) / 60, telemetry));
            }
        }
        return new Result(name, curve, step, trained);
    }
}
