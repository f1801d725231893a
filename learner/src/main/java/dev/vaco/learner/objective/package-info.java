/**
 * Policy objectives, advantage estimators and loss aggregation ({@code docs/vaco-spec.md}).
 *
 * <p>Shape legend for every file here: {@code N} responses in the minibatch, {@code T} max completion length
 * (right-padded, {@code mask} = 1 on real tokens), {@code K} prompt groups. Symbols: {@code l} current learner
 * log-probs, {@code lT} learner at iteration start, {@code lb} behaviour (inference server), {@code A} advantages.
 *
 * <p>Objectives: {@link dev.vaco.learner.objective.Vaco}, {@link dev.vaco.learner.objective.PpoClip},
 * {@link dev.vaco.learner.objective.Grpo}, {@link dev.vaco.learner.objective.DecoupledPpo},
 * {@link dev.vaco.learner.objective.TruncatedIsReinforce}, {@link dev.vaco.learner.objective.Spo}, selected by
 * {@link dev.vaco.learner.objective.Objective#create}. Each is checked against a plain-loop reference in the tests.
 */
package dev.vaco.learner.objective;
