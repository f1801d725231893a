/** Evaluation metrics: unbiased pass@k, maj@k, mean@k, bootstrap intervals, breakdowns by level and subject. */
package dev.vaco.trainer.eval;
