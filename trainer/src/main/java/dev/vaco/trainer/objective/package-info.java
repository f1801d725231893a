/**
 * Policy objectives, advantage estimators and loss aggregation ({@code docs/vaco-spec.md}).
 *
 * <p>Shape legend for every file here: {@code N} responses in the minibatch, {@code T} max completion length
 * (right-padded, {@code mask} = 1 on real tokens), {@code K} prompt groups. Symbols: {@code l} current learner
 * log-probs, {@code lT} learner at iteration start, {@code lb} behaviour (inference server), {@code A} advantages.
 *
 * <p>Objectives: {@link dev.vaco.trainer.objective.Vaco}, {@link dev.vaco.trainer.objective.PpoClip},
 * {@link dev.vaco.trainer.objective.Grpo}, {@link dev.vaco.trainer.objective.DecoupledPpo},
 * {@link dev.vaco.trainer.objective.TruncatedIsReinforce}, {@link dev.vaco.trainer.objective.Spo}, selected by
 * {@link dev.vaco.trainer.objective.Objective#create}. Each is checked against a plain-loop reference in the tests.
 */
package dev.vaco.trainer.objective;
