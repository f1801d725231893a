package dev.vaco.learner.objective;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Critic-free, group-relative advantage estimators ({@link GroupAdvantages} computes them).
 *
 * <ul>
 *   <li>{@code grpo} (Shao et al., arXiv 2402.03300): {@code A_i = (R_i - mean_g R) / (std_g R + eps)}, std the
 *       unbiased sample std (n - 1), as verl's {@code torch.std}.</li>
 *   <li>{@code dr_grpo} (Liu et al., "Understanding R1-Zero-like training", arXiv 2503.20783):
 *       {@code A_i = R_i - mean_g R}.</li>
 * </ul>
 */
public enum AdvantageEstimator {
    GRPO("grpo"), DR_GRPO("dr_grpo");

    private final String key;

    AdvantageEstimator(String key) {
        this.key = key;
    }

    @JsonValue
    public String key() {
        return key;
    }

    @JsonCreator
    public static AdvantageEstimator of(String key) {
        return Keys.parse(values(), AdvantageEstimator::key, key);
    }
}
