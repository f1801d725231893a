package dev.vaco.learner;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.vaco.learner.objective.ObjectiveConfig;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.learner.objective.Diagnostics;
import dev.vaco.learner.objective.GroupAdvantages;
import dev.vaco.learner.objective.Objective;
import dev.vaco.learner.objective.ObjectiveResult;
import dev.vaco.learner.objective.PolicyBatch;
import dev.vaco.learner.optim.Minibatches;
import dev.vaco.learner.optim.Optimiser;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One learner iteration on a batch of scored groups, in the spec's order (docs/vaco-spec.md):
 *
 * <ol>
 *   <li>group-relative advantages from the rewards;</li>
 *   <li>{@code lT}: the learner's log-probs at the start of the iteration, one no-grad pass;</li>
 *   <li>{@code objective.beginIteration} (VACO's Align, frozen for the iteration);</li>
 *   <li>u updates, each over seeded minibatches: recompute {@code l}, loss, backward, clip, AdamW;</li>
 *   <li>telemetry: lag, TV, filtered/clipped shares, ESS, inference/trainer mismatch, consecutive-policy KL, entropy.</li>
 * </ol>
 *
 * Runs on one thread (DJL's gradient collector and libtorch's grad mode are per thread). Shapes: N responses,
 * T positions (see {@link TrainBatch}).
 */
public final class Learner {
    /**
     * What a learner step reads of the run's configuration (each value validated where its key is read:
     * {@code trainer.config}).
     *
     * @param objective      the objective's section (advantage estimator and its guard, all-equal-group filtering)
     * @param temperature    the sampling temperature the behaviour log-probs were computed at ({@code rollout.temperature})
     * @param updatesPerBatch u, optimiser updates per batch ({@code rollout.updates_per_batch})
     * @param minibatches    minibatches per update ({@code optim.minibatches})
     * @param seed           the run's seed, for the minibatch split ({@code run.seed})
     */
    public record Settings(ObjectiveConfig objective, double temperature, int updatesPerBatch, int minibatches,
                           long seed) {
    }

    /** Lags of this many versions and more share the lag histogram's last bin ({@code lag/tokens_32}). */
    static final int LAG_BINS = 32;

    private final TorchPolicy policy;
    /** The frozen policy of the KL term ({@code objective.kl_coef > 0}), or null: no reference pass at all. */
    private final TorchPolicy reference;
    private final Objective objective;
    private final Optimiser optimiser;
    private final Settings config;
    private final NDManager root;
    private long iteration;

    /**
     * @param reference the KL term's reference policy (verl's "ref": the weights RL started from), frozen, or null
     *                  when the objective has no KL term
     */
    public Learner(TorchPolicy policy, TorchPolicy reference, Objective objective, Optimiser optimiser, Settings config,
                   NDManager root) {
        this.policy = policy;
        this.reference = reference;
        this.objective = objective;
        this.optimiser = optimiser;
        this.config = config;
        this.root = root;
    }

    public Optimiser optimiser() {
        return optimiser;
    }

    public TorchPolicy policy() {
        return policy;
    }

    /**
     * Trains on {@code rollouts} (whole groups) and returns the step's metrics.
     *
     * @param learnerVersion the policy version of the learner's weights before this iteration (lag reference)
     */
    public Map<String, Double> step(List<Rollout> rollouts, long learnerVersion) {
        Map<String, Double> m = new LinkedHashMap<>();
        float temperature = (float) config.temperature();
        rolloutMetrics(rollouts, m);
        try (NDManager mgr = root.newSubManager()) {
            GroupAdvantages.Result adv = advantages(mgr, rollouts, m);
            List<Rollout> kept = new ArrayList<>();
            for (long r : adv.keptRows()) kept.add(rollouts.get((int) r));
            m.put("train/responses", (double) kept.size());
            if (kept.isEmpty()) {
                m.put("train/skipped_no_signal", 1.0);
                return m;
            }
            TrainBatch b = TrainBatch.build(mgr, kept, learnerVersion, 0);
            m.put("train/tokens", (double) b.completionTokens());
            lagMetrics(b, m);
            long[] all = new long[b.rows()];
            for (int i = 0; i < all.length; i++) all[i] = i;
            NDArray logpStart = startPass(b, all, temperature, m);
            PolicyBatch start = PolicyBatch.of(logpStart, logpStart, b.behaviour(), adv.advantages(), b.mask(), b.groupIds());
            // log pi_ref [N, T], once per iteration: the reference is frozen, so every minibatch reads the same values
            if (reference != null) start = start.withReference(noGrad(reference, b, all, temperature, false));
            PolicyBatch full = objective.beginIteration(start);
            updates(b, full, temperature, m);
            endMetrics(b, all, logpStart, full, temperature, m);
        }
        iteration++;
        return m;
    }

    /** Group-relative advantages from the rewards; the estimator's metrics go to {@code m}. */
    private GroupAdvantages.Result advantages(NDManager mgr, List<Rollout> rollouts, Map<String, Double> m) {
        float[] rewards = new float[rollouts.size()];
        int[] groups = new int[rollouts.size()];
        for (int i = 0; i < rewards.length; i++) {
            rewards[i] = rollouts.get(i).reward();
            groups[i] = rollouts.get(i).group();
        }
        GroupAdvantages.Result adv = GroupAdvantages.compute(mgr, rewards, groups, config.objective().advantage(),
                config.objective().advantageEps(), config.objective().dropAllEqualGroups());
        m.putAll(adv.metrics());
        return adv;
    }

    /**
     * {@code lT}, the learner's log-probs at the start of the iteration {@code [N, T]}, with the metrics read off
     * that pass: entropy, inference/trainer mismatch on the lag-0 tokens, and the lag's TV.
     */
    private NDArray startPass(TrainBatch b, long[] all, float temperature, Map<String, Double> m) {
        // lT and entropy: no-grad passes (no collector open), chunked so that [rows, T, V] logits stay small
        NDArray start = noGrad(policy, b, all, temperature, true);                             // [2, N, T]
        NDArray logpStart = start.get(0), entropy = start.get(1);                      // [N, T] each
        m.put("policy/entropy", masked(entropy, b.mask()));
        NDArray lagZero = b.lag().eq(0f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(b.mask());
        m.put("mismatch/kl_k3", Diagnostics.mismatchKl(b.behaviour(), logpStart, lagZero));
        // how far the lag has carried the learner from the behaviour policy, whatever the objective:
        // mean 0.5 |exp(lT - lb) - 1| (the spec's sampled-ratio TV, anchored at the learner's start)
        m.put("lag/tv", masked(logpStart.sub(b.behaviour()).exp().sub(1f).abs().mul(0.5f), b.mask()));
        return logpStart;
    }

    /** u updates over seeded minibatches: recompute {@code l}, loss, backward, clip, AdamW; averaged metrics. */
    private void updates(TrainBatch b, PolicyBatch full, float temperature, Map<String, Double> m) {
        int n = b.rows();
        Map<String, double[]> sums = new LinkedHashMap<>();
        int updates = config.updatesPerBatch(), count = Math.min(config.minibatches(), n);
        double loss = 0, gradNorm = 0;
        int applied = 0, minibatches = 0;
        for (int u = 0; u < updates; u++) {
            for (long[] rows : Minibatches.split(n, count, config.seed() * 1_000_003L + iteration * 31 + u)) {
                ObjectiveResult r;
                double lossValue;
                try (NDScope scope = new NDScope();
                     GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    scope.suppressNotUsedWarning();
                    PolicyBatch mb = full.select(rows);
                    NDArray[] in = b.select(rows);
                    NDArray logp = policy.tokenLogProbs(in[0], in[1], temperature);   // [n, T], with gradient
                    r = objective.loss(mb.withLogp(logp));
                    gc.backward(r.loss());
                    lossValue = r.loss().getFloat();
                }
                Optimiser.Report rep = optimiser.step(policy.trainable(), lossValue);
                loss += lossValue;
                gradNorm += rep.gradNorm();
                applied += rep.applied() ? 1 : 0;
                minibatches++;
                m.put("optim/lr", rep.lr());
                m.put("optim/skipped_steps", (double) rep.skipped());
                r.metrics().forEach((k, v) -> sums.computeIfAbsent(k, x -> new double[1])[0] += v);
            }
        }
        final int mbCount = minibatches;
        sums.forEach((k, v) -> m.put(k, v[0] / mbCount));
        m.put("loss/mean", loss / minibatches);
        m.put("optim/grad_norm", gradNorm / minibatches);
        m.put("optim/applied", (double) applied);
    }

    /** After the updates: how far the iteration moved the policy, one more no-grad pass. */
    private void endMetrics(TrainBatch b, long[] all, NDArray logpStart, PolicyBatch full, float temperature,
                            Map<String, Double> m) {
        // consecutive-policy KL(pi_T || pi_T+1) on the batch's tokens (fixed-point diagnostic), k3 estimator
        NDArray logpEnd = noGrad(policy, b, all, temperature, false);
        NDArray d = logpEnd.sub(logpStart);                                               // log(pi_T+1 / pi_T)
        m.put("policy/consecutive_kl", masked(d.exp().sub(d).sub(1f), b.mask()));
        // first-order improvement of the iteration: mean A~ * (l_new - l_start) > 0 when the update moved the
        // policy toward the responses with positive (aligned) advantage: a sign-error tripwire
        m.put("policy/advantage_gain", masked(d.mul(full.tokenAdvantages()), b.mask()));
    }

    /** {@code policy}'s no-grad log-probs {@code [n, T]}, or with {@code entropy} log-probs and entropies {@code [2, n, T]}. */
    private static NDArray noGrad(TorchPolicy policy, TrainBatch b, long[] rows, float temperature, boolean entropy) {
        int chunk = 16;
        List<NDArray> parts = new ArrayList<>();
        for (int s = 0; s < rows.length; s += chunk) {
            long[] idx = Arrays.copyOfRange(rows, s, Math.min(rows.length, s + chunk));
            NDArray[] in = b.select(idx);
            parts.add(entropy ? policy.tokenLogProbsAndEntropy(in[0], in[1], temperature) : policy.tokenLogProbs(in[0], in[1], temperature));
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(new ai.djl.ndarray.NDList(parts), entropy ? 1 : 0);
    }

    static double masked(NDArray x, NDArray mask) {
        double denom = mask.sum().getFloat();
        return denom == 0 ? 0 : x.mul(mask).sum().getFloat() / denom;
    }

    private static void lagMetrics(TrainBatch b, Map<String, Double> m) {
        float[] lag = b.lag().toFloatArray(), mask = b.mask().toFloatArray();
        List<Float> real = new ArrayList<>();
        for (int i = 0; i < lag.length; i++) if (mask[i] > 0) real.add(lag[i]);
        if (real.isEmpty()) return;
        float[] s = new float[real.size()];
        for (int i = 0; i < s.length; i++) s[i] = real.get(i);
        Arrays.sort(s);
        double sum = 0, positive = 0;
        for (float x : s) {
            sum += x;
            if (x > 0) positive++;
        }
        m.put("lag/mean", sum / s.length);
        m.put("lag/p50", (double) s[s.length / 2]);
        m.put("lag/p95", (double) s[Math.min(s.length - 1, (int) Math.ceil(0.95 * s.length) - 1)]);
        m.put("lag/max", (double) s[s.length - 1]);
        m.put("lag/stale_frac", positive / s.length);
        // the histogram: lag/tokens_k = tokens of lag k (versions), k capped at LAG_BINS (the dashboard's lag chart)
        int[] bins = new int[LAG_BINS + 1];
        for (float x : s) bins[Math.min(LAG_BINS, Math.max(0, Math.round(x)))]++;
        for (int k = 0; k <= LAG_BINS; k++) if (bins[k] > 0) m.put("lag/tokens_" + k, (double) bins[k]);
    }


    private static void rolloutMetrics(List<Rollout> rollouts, Map<String, Double> m) {
        double reward = 0, len = 0, correct = 0, noAnswer = 0;
        for (Rollout r : rollouts) {
            reward += r.reward();
            len += r.length();
            if (r.verdict().equals("CORRECT")) correct++;
            if (r.verdict().equals("NO_ANSWER")) noAnswer++;
        }
        int n = rollouts.size();
        m.put("reward/mean", reward / n);
        m.put("reward/accuracy", correct / n);
        m.put("reward/no_answer_frac", noAnswer / n);
        m.put("response/length_mean", len / n);
    }
}
