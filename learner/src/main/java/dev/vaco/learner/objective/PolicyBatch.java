package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * Everything an objective reads for one minibatch, in the spec's symbols ({@code docs/vaco-spec.md}).
 *
 * <p>Shapes: {@code N} responses in the minibatch, {@code T} max completion length (right-padded). All arrays fp32.
 * Every array except {@code logp} must carry no gradient. Arrays created from Java data must stay alive (and should be
 * libtorch-owned copies, see engine notes) until backward has finished: the batch does not own or close them.
 *
 * @param logp          [N, T] {@code l_t}: current learner log-probs of the sampled tokens, with gradient
 * @param logpStart     [N, T] {@code lT_t}: learner at the start of the iteration (one forward before minibatch 1)
 * @param logpBehaviour [N, T] {@code lb_t}: behaviour log-probs returned by the inference server
 * @param advantages    [N] per response (broadcast to its tokens) or [N, T] per token (e.g. VACO-aligned)
 * @param mask          [N, T] 1 on real completion tokens, 0 on padding
 * @param groupIds      [N] prompt group of each response (VACO's group-mean test scope)
 * @param logpRef       [N, T] reference-policy log-probs for the KL term, or {@code null} when no KL is used
 */
public record PolicyBatch(
        NDArray logp,
        NDArray logpStart,
        NDArray logpBehaviour,
        NDArray advantages,
        NDArray mask,
        int[] groupIds,
        NDArray logpRef) {

    public PolicyBatch {
        Shape nt = logp.getShape();
        require(nt.dimension() == 2, "logp must be [N, T], found " + nt);
        sameShape("logpStart", logpStart, nt);
        sameShape("logpBehaviour", logpBehaviour, nt);
        sameShape("mask", mask, nt);
        if (logpRef != null) sameShape("logpRef", logpRef, nt);
        Shape a = advantages.getShape();
        require(a.equals(new Shape(nt.get(0))) || a.equals(nt),
                "advantages must be [N] = " + new Shape(nt.get(0)) + " or [N, T] = " + nt + ", found " + a);
        require(groupIds.length == nt.get(0),
                "groupIds must have N = " + nt.get(0) + " entries, found " + groupIds.length);
        for (NDArray x : new NDArray[] {logp, logpStart, logpBehaviour, advantages, mask}) {
            require(x.getDataType() == DataType.FLOAT32, "every array must be FLOAT32, found " + x.getDataType());
        }
    }

    /** A batch without a reference policy (no KL term). */
    public static PolicyBatch of(NDArray logp, NDArray logpStart, NDArray logpBehaviour, NDArray advantages,
                                 NDArray mask, int[] groupIds) {
        return new PolicyBatch(logp, logpStart, logpBehaviour, advantages, mask, groupIds, null);
    }

    public PolicyBatch withReference(NDArray logpRef) {
        return new PolicyBatch(logp, logpStart, logpBehaviour, advantages, mask, groupIds, logpRef);
    }

    public PolicyBatch withAdvantages(NDArray newAdvantages) {
        return new PolicyBatch(logp, logpStart, logpBehaviour, newAdvantages, mask, groupIds, logpRef);
    }

    /** Same batch with the learner's log-probs recomputed (each minibatch / each update). */
    public PolicyBatch withLogp(NDArray newLogp) {
        return new PolicyBatch(newLogp, logpStart, logpBehaviour, advantages, mask, groupIds, logpRef);
    }

    public int responses() {
        return (int) logp.getShape().get(0);
    }

    public boolean hasReference() {
        return logpRef != null;
    }

    /** Advantages per token, [N, T] (a broadcast view when they are per response). */
    public NDArray tokenAdvantages() {
        return advantages.getShape().dimension() == 2
                ? advantages
                : advantages.expandDims(1).broadcast(logp.getShape()); // [N] -> [N, 1] -> [N, T]
    }

    /**
     * The rows {@code rows} of every array (a minibatch), as new arrays in each source array's manager. A slice of
     * {@code logp} keeps its graph only when taken inside the {@code GradientCollector} (DJL's grad mode is off
     * outside); normally the caller recomputes {@code logp} for the minibatch and uses {@link #withLogp}.
     */
    public PolicyBatch select(long[] rows) {
        // index_select keeps its index for backward: copy it into libtorch memory (engine notes, use-after-free)
        try (NDArray javaBacked = logp.getManager().create(rows); NDArray index = javaBacked.duplicate()) {
            NDIndex pick = new NDIndex("{}", index);
            int[] groups = Arrays.stream(rows).mapToInt(r -> groupIds[(int) r]).toArray();
            return new PolicyBatch(logp.get(pick), logpStart.get(pick), logpBehaviour.get(pick), advantages.get(pick),
                    mask.get(pick), groups, logpRef == null ? null : logpRef.get(pick));
        }
    }

    private static void sameShape(String name, NDArray x, Shape expected) {
        require(x.getShape().equals(expected), name + " must be [N, T] = " + expected + " like logp, found "
                + x.getShape());
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("PolicyBatch: " + message);
    }
}
