package dev.vaco.learner.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Group-relative advantages from verifier rewards, vectorised over the batch with a one-hot group matrix.
 *
 * <pre>
 *   grpo:    A_i = (R_i - mean_g R) / (std_g R + eps)     std_g: unbiased sample std, as verl (torch.std)
 *   dr_grpo: A_i =  R_i - mean_g R
 * </pre>
 *
 * <p>Shapes: {@code N} responses, {@code K} groups (prompts). A group whose rewards are all equal carries no signal
 * (its advantages are exactly 0); it is counted ({@code adv/all_equal_group_frac}) and, with {@code dropAllEqual},
 * its rows are left out (DAPO's dynamic sampling). Deviation from verl: a group of one response counts as
 * all-equal (advantage 0) instead of verl's {@code mean = 0, std = 1} (raw reward as advantage).
 */
public final class GroupAdvantages {
    private GroupAdvantages() {}

    /**
     * @param advantages [N'] fp32 advantages of the kept rows, in the given manager
     * @param keptRows   indices (into the input) of the rows kept, ascending; all rows unless dropAllEqual
     * @param metrics    {@code adv/mean}, {@code adv/std}, {@code adv/all_equal_groups}, ...
     */
    public record Result(NDArray advantages, long[] keptRows, Map<String, Double> metrics) {}

    /**
     * @param rewards  [N] R_i
     * @param groupIds [N] prompt group of each response (any ints; equal id = same group)
     * @param eps      std guard of {@code grpo}, verl's 1e-6
     */
    public static Result compute(NDManager manager, float[] rewards, int[] groupIds, AdvantageEstimator estimator,
                                 double eps, boolean dropAllEqual) {
        if (rewards.length != groupIds.length || rewards.length == 0) {
            throw new IllegalArgumentException("rewards and groupIds must have the same length > 0, found "
                    + rewards.length + " and " + groupIds.length);
        }
        int n = rewards.length;
        Map<Integer, Integer> index = new LinkedHashMap<>();
        for (int g : groupIds) index.putIfAbsent(g, index.size());
        int k = index.size();
        double[] oneHot = new double[n * k];
        for (int i = 0; i < n; i++) oneHot[i * k + index.get(groupIds[i])] = 1;

        // Every array here is a leaf without gradient, computed in float64 and cast at the end.
        try (NDManager scope = manager.newSubManager()) {
            NDArray member = scope.create(oneHot, new Shape(n, k));                        // [N, K]
            NDArray r = scope.create(IntStream.range(0, n).mapToDouble(i -> rewards[i]).toArray(),
                    new Shape(n, 1));                                                     // [N, 1]
            NDArray count = member.sum(new int[] {0}).reshape(k, 1);                       // [K, 1]
            NDArray groupMean = member.transpose().matMul(r).div(count);                   // [K, 1]
            NDArray centred = r.sub(member.matMul(groupMean));                             // [N, 1] R - mean_g R
            // all-equal: max == min inside the group (exact, unlike a variance test on rounded means)
            NDArray big = scope.create(1e30);
            NDArray outside = member.neg().add(1).mul(big);                                 // [N, K] 0 in group
            NDArray groupMax = r.sub(outside).max(new int[] {0});                          // [K]
            NDArray groupMin = r.add(outside).min(new int[] {0});                          // [K]
            NDArray allEqual = groupMax.eq(groupMin);                                      // [K] bool
            NDArray groupFlag = allEqual.toType(DataType.FLOAT64, false).reshape(k, 1);   // [K, 1]
            NDArray rowAllEqual = member.matMul(groupFlag).gt(0.5);                       // [N, 1] bool

            NDArray advantages = switch (estimator) {
                case DR_GRPO -> centred;
                case GRPO -> {
                    NDArray var = member.transpose().matMul(centred.mul(centred))
                            .div(count.sub(1).maximum(1));                                  // [K, 1] unbiased
                    yield centred.div(member.matMul(var.sqrt()).add(eps));                   // [N, 1]
                }
            };
            advantages = advantages.mul(rowAllEqual.logicalNot().toType(DataType.FLOAT64, false)); // exact 0
            boolean[] equalRow = toBooleans(rowAllEqual.reshape(n));
            long[] kept = IntStream.range(0, n).filter(i -> !dropAllEqual || !equalRow[i])
                    .mapToLong(i -> i).toArray();
            double[] all = advantages.reshape(n).toDoubleArray();
            float[] keptValues = new float[kept.length];
            for (int j = 0; j < kept.length; j++) keptValues[j] = (float) all[(int) kept[j]];

            Map<String, Double> metrics = new LinkedHashMap<>();
            int equalGroups = Math.round(allEqual.toType(DataType.FLOAT32, false).sum().getFloat());
            metrics.put("adv/all_equal_groups", (double) equalGroups);
            metrics.put("adv/all_equal_group_frac", equalGroups / (double) k);
            metrics.put("adv/kept_frac", kept.length / (double) n);
            double mean = 0, sq = 0;
            for (float a : keptValues) mean += a / Math.max(1, keptValues.length);
            for (float a : keptValues) sq += (a - mean) * (a - mean) / Math.max(1, keptValues.length);
            metrics.put("adv/mean", mean);
            metrics.put("adv/std", Math.sqrt(sq));
            NDArray out;
            try (NDArray javaBacked = manager.create(keptValues)) {
                out = javaBacked.duplicate(); // libtorch-owned: safe to keep and to use in ops backward traverses
            }
            return new Result(out, kept, metrics);
        }
    }

    private static boolean[] toBooleans(NDArray flags) {
        boolean[] out = new boolean[(int) flags.size()];
        byte[] bytes = flags.toType(DataType.BOOLEAN, false).toByteArray();
        for (int i = 0; i < out.length; i++) out[i] = bytes[i] != 0;
        return out;
    }
}
