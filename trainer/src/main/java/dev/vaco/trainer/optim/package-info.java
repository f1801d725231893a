/**
 * Optimisation: {@link dev.vaco.trainer.optim.AdamW} (exportable state), global-norm clipping
 * ({@link dev.vaco.trainer.optim.Gradients}), {@link dev.vaco.trainer.optim.WarmupCosine} schedule,
 * {@link dev.vaco.trainer.optim.NonFiniteGuard}, seeded {@link dev.vaco.trainer.optim.Minibatches}, and
 * {@link dev.vaco.trainer.optim.Optimiser} which runs them in order. Everything here runs after backward, with the
 * {@code GradientCollector} closed.
 */
package dev.vaco.trainer.optim;
