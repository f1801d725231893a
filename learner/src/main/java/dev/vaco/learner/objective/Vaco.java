package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VACO: total Variation-based Advantage aligned Constrained policy Optimization (Honari, Creus Castanyer, Przystupa,
 * Noukhovitch, Castro, Berseth, "Align and Filter", arXiv 2603.01365), as fixed in {@code docs/vaco-spec.md}.
 *
 * <pre>
 * Align (once per learner iteration, frozen for all its minibatches; {@link #align}):
 *   w_t  = min(rho_bar, exp(lT_t - lb_t))               V-trace truncated IS weight, behaviour -> learner
 *   A~_t = w_t * A_i
 * Filter (every minibatch; {@link #loss}):
 *   q_t  = exp(l_t - l_anchor_t)                        anchor = behaviour (lb) or learner-start (lT)
 *   tv_t = 0.5 |q_t - 1|                                 sampled-ratio TV estimate
 *   m_t  = 0 if (tv_scope > delta and A~_t * sign(q_t - 1) > 0) else 1
 *   r_t  = exp(l_t - lT_t)                               forward ratio (the only factor with gradient)
 *   loss = - aggregate(m_t * r_t * A~_t) + kl_coef * aggregate(k3(l, l_ref))
 * </pre>
 *
 * <p>{@code tv_scope} is the TV statistic the test compares with delta: {@code token} uses {@code tv_t};
 * {@code sequence-mean} the mean of {@code tv_t} over the response; {@code group-mean} the mean over all tokens of
 * the prompt group present in the minibatch, so a whole group starts filtering only once its mean TV exceeds delta.
 * In every scope the direction test ({@code A~_t * sign(q_t - 1) > 0}: the gradient pushes the token further out)
 * stays per token: tokens pulled back toward the anchor are always kept. The mask is a constant (no gradient).
 * With {@code N_tokens} counting filtered tokens too, at the first minibatch ({@code l = lT}, {@code r = 1}) the
 * gradient is the truncated-IS-weighted policy gradient {@code -sum w_t A_i grad l_t / N_tokens}.
 *
 * @param delta       TV threshold (the paper: 0.2; the project default, 0.05, is set in ObjectiveConfig by measurement)
 * @param rhoBar      IS truncation level of Align, default 1.0
 * @param anchor      policy the TV ball is centred on
 * @param scope       granularity of the TV test
 * @param aggregation token-mean or seq-mean-token-mean
 * @param klCoef      weight of the KL-to-reference term, default 0 (off)
 */
public record Vaco(double delta, double rhoBar, TvAnchor anchor, TestScope scope, LossAggregation aggregation,
                   double klCoef) implements Objective {

    public enum TvAnchor {
        BEHAVIOUR("behaviour"), LEARNER_START("learner-start");

        private final String key;

        TvAnchor(String key) {
            this.key = key;
        }

        @JsonValue
        public String key() {
            return key;
        }

        @JsonCreator
        public static TvAnchor of(String key) {
            return Keys.parse(values(), TvAnchor::key, key);
        }
    }

    public enum TestScope {
        TOKEN("token"), SEQUENCE_MEAN("sequence-mean"), GROUP_MEAN("group-mean");

        private final String key;

        TestScope(String key) {
            this.key = key;
        }

        @JsonValue
        public String key() {
            return key;
        }

        @JsonCreator
        public static TestScope of(String key) {
            return Keys.parse(values(), TestScope::key, key);
        }
    }

    @Override
    public String name() {
        return "vaco";
    }

    /** Align, on the whole batch of the iteration: replaces its advantages by {@code A~} [N, T]. */
    @Override
    public PolicyBatch beginIteration(PolicyBatch batch) {
        return batch.withAdvantages(align(batch.logpStart(), batch.logpBehaviour(), batch.tokenAdvantages(),
                batch.mask(), rhoBar));
    }

    /**
     * Align: {@code A~_t = min(rho_bar, exp(lT_t - lb_t)) * A_t}, zero on padding. No gradient.
     *
     * @param logpStart     [N, T] lT
     * @param logpBehaviour [N, T] lb
     * @param advantages    [N, T] A_i broadcast to tokens
     * @param mask          [N, T]
     * @return [N, T] aligned advantages, in {@code logpStart}'s manager
     */
    public static NDArray align(NDArray logpStart, NDArray logpBehaviour, NDArray advantages, NDArray mask,
                                double rhoBar) {
        NDArray w = logpStart.sub(logpBehaviour).exp().minimum((float) rhoBar); // [N, T] truncated IS weight
        return w.mul(advantages).mul(mask);                                     // [N, T] A~
    }

    /** Filter and loss on one minibatch whose advantages are already aligned ({@link #beginIteration}). */
    @Override
    public ObjectiveResult loss(PolicyBatch batch) {
        NDManager manager = batch.logp().getManager();
        NDArray l = batch.logp();                          // [N, T] with gradient
        NDArray lT = batch.logpStart(), lb = batch.logpBehaviour(), mask = batch.mask();
        NDArray aligned = batch.tokenAdvantages();         // [N, T] A~

        // Filter: constants, computed on the detached log-probs.
        NDArray lNow = l.stopGradient();
        NDArray q = lNow.sub(anchor == TvAnchor.BEHAVIOUR ? lb : lT).exp(); // [N, T]
        NDArray tv = q.sub(1f).abs().mul(0.5f);                              // [N, T]
        NDArray outside = tvForScope(tv, mask, batch.groupIds(), manager).gt((float) delta);
        NDArray pushesOut = aligned.mul(q.sub(1f).sign()).gt(0f);
        NDArray filtered = outside.logicalAnd(pushesOut).logicalAnd(mask.gt(0f));     // [N, T] bool
        NDArray keep = mask.sub(filtered.toType(DataType.FLOAT32, false));            // [N, T] m_t on real tokens

        NDArray r = l.sub(lT).exp();                                                 // [N, T] forward ratio, grad
        NDArray policyLoss = aggregation.aggregate(r.mul(aligned).mul(keep).neg(), mask);

        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("loss/policy", (double) policyLoss.getFloat());
        metrics.put("vaco/filtered_frac", Tokens.fraction(filtered, mask));
        metrics.put("vaco/tv_behaviour", Tokens.mean(lNow.sub(lb).exp().sub(1f).abs().mul(0.5f), mask));
        metrics.put("vaco/tv_forward", Tokens.mean(lNow.sub(lT).exp().sub(1f).abs().mul(0.5f), mask));
        NDArray w = lT.sub(lb).exp().minimum((float) rhoBar);                         // [N, T] Align's weights
        metrics.put("is/ess", Tokens.ess(w, mask));
        metrics.put("is/truncated_frac", Tokens.fraction(lT.sub(lb).exp().gt((float) rhoBar), mask));
        NDArray kl = Tokens.klPenalty(batch, klCoef, aggregation, metrics);
        NDArray loss = kl == null ? policyLoss : policyLoss.add(kl);
        metrics.put("loss/total", (double) loss.getFloat());
        return new ObjectiveResult(loss, metrics);
    }

    /** [N, T] (token) or [N, 1] (sequence / group) TV statistic compared with delta. No gradient. */
    private NDArray tvForScope(NDArray tv, NDArray mask, int[] groupIds, NDManager manager) {
        if (scope == TestScope.TOKEN) return tv;
        NDArray rowSum = tv.mul(mask).sum(new int[] {1}, true);    // [N, 1]
        NDArray rowCount = mask.sum(new int[] {1}, true);          // [N, 1]
        if (scope == TestScope.SEQUENCE_MEAN) return rowSum.div(rowCount.maximum(1f));
        NDArray member = groupMembership(groupIds, manager);        // [N, K] one-hot
        NDArray groupSum = member.transpose().matMul(rowSum);       // [K, 1]
        NDArray groupCount = member.transpose().matMul(rowCount);   // [K, 1]
        return member.matMul(groupSum.div(groupCount.maximum(1f))); // [N, K] x [K, 1] -> [N, 1]
    }

    /** [N, K] one-hot of each response's group (ids renumbered 0..K-1 in order of appearance). */
    private static NDArray groupMembership(int[] groupIds, NDManager manager) {
        Map<Integer, Integer> index = new LinkedHashMap<>();
        for (int g : groupIds) index.putIfAbsent(g, index.size());
        float[] oneHot = new float[groupIds.length * index.size()];
        for (int i = 0; i < groupIds.length; i++) oneHot[i * index.size() + index.get(groupIds[i])] = 1f;
        try (NDArray javaBacked = manager.create(oneHot, new Shape(groupIds.length, index.size()))) {
            return javaBacked.duplicate(); // libtorch-owned copy: outlives the Java buffer
        }
    }
}
