package dev.vaco.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.vaco.learner.optim.OptimConfig;

import java.util.Map;

/**
 * One optimisation step in the project's order: global norm -> non-finite guard -> clip -> AdamW at the scheduled
 * lr -> zero gradients. Call after backward, with the {@code GradientCollector} closed.
 */
public final class Optimiser implements AutoCloseable {
    private final AdamW adamW;
    private final WarmupCosine schedule;
    private final double maxGradNorm;
    private final NonFiniteGuard guard = new NonFiniteGuard();
    private long applied;

    /**
     * @param applied    whether parameters were updated (false: skipped by the guard)
     * @param gradNorm   global gradient norm before clipping
     * @param lr         learning rate used (or that would have been used)
     * @param skipped    steps skipped so far
     */
    public record Report(boolean applied, double gradNorm, double lr, long skipped) {}

    public Optimiser(AdamW adamW, WarmupCosine schedule, double maxGradNorm) {
        this.adamW = adamW;
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
    }

    public static Optimiser from(NDManager manager, OptimConfig c, int totalSteps) {
        return new Optimiser(AdamW.from(manager, c), WarmupCosine.from(c, totalSteps), c.maxGradNorm());
    }

    public Report step(Map<String, NDArray> parameters, double loss) {
        double norm = Gradients.globalNorm(parameters);
        double lr = schedule.lr(applied);
        if (!guard.admit(loss, norm, parameters)) return new Report(false, norm, lr, guard.skipped());
        Gradients.scaleToNorm(parameters, norm, maxGradNorm);
        adamW.step(parameters, lr);
        Gradients.zero(parameters);
        applied++;
        return new Report(true, norm, lr, guard.skipped());
    }

    public AdamW adamW() {
        return adamW;
    }

    /** Steps applied so far (the schedule's position; a skipped step does not advance it). */
    public long appliedSteps() {
        return applied;
    }

    /** Puts the schedule back where a checkpoint left it (resume). */
    public void restoreAppliedSteps(long steps) {
        if (steps < 0) throw new IllegalArgumentException("applied steps must be >= 0, found " + steps);
        this.applied = steps;
    }

    @Override
    public void close() {
        adamW.close();
    }
}
