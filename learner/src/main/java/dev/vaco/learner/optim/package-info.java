/**
 * Optimisation: {@link dev.vaco.learner.optim.AdamW} (exportable state), global-norm clipping
 * ({@link dev.vaco.learner.optim.Gradients}), {@link dev.vaco.learner.optim.WarmupCosine} schedule,
 * {@link dev.vaco.learner.optim.NonFiniteGuard}, seeded {@link dev.vaco.learner.optim.Minibatches}, and
 * {@link dev.vaco.learner.optim.Optimiser} which runs them in order. Everything here runs after backward, with the
 * {@code GradientCollector} closed.
 */
package dev.vaco.learner.optim;
