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
    /** Optimiser steps per step of the schedule: the RL phase's schedule counts learner steps ({@link #from}). */
    private final int perScheduleStep;
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
        this(adamW, schedule, maxGradNorm, 1);
    }

    private Optimiser(AdamW adamW, WarmupCosine schedule, double maxGradNorm, int perScheduleStep) {
        if (perScheduleStep < 1) throw new IllegalArgumentException("perScheduleStep must be >= 1, found " + perScheduleStep);
        this.adamW = adamW;
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
        this.perScheduleStep = perScheduleStep;
    }

    /**
     * The RL phase's optimiser: {@code optim.warmup_steps} and the horizon count learner steps, and the lr stays the
     * same for the {@code perLearnerStep} optimiser steps (updates per batch x minibatches) of one learner step, as
     * verl's scheduler steps once per training step. (It used to advance per optimiser step over a horizon of learner
     * steps: with u = 4 the lr reached its floor a quarter of the way through the run.)
     */
    public static Optimiser from(NDManager manager, OptimConfig c, int learnerSteps, int perLearnerStep) {
        WarmupCosine schedule = new WarmupCosine(c.lr(), c.warmupSteps(), learnerSteps, c.minLrRatio());
        return new Optimiser(AdamW.from(manager, c), schedule, c.maxGradNorm(), perLearnerStep);
    }

    public Report step(Map<String, NDArray> parameters, double loss) {
        double norm = Gradients.globalNorm(parameters);
        double lr = schedule.lr(applied / perScheduleStep);
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
