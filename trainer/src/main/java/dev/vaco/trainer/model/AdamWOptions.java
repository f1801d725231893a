package dev.vaco.trainer.model;

/**
 * AdamW hyper-parameters (decoupled weight decay, as {@code torch.optim.AdamW}).
 *
 * @param learningRate  step size, &gt; 0
 * @param beta1         first-moment decay in [0, 1)
 * @param beta2         second-moment decay in [0, 1)
 * @param epsilon       denominator guard, &gt; 0
 * @param weightDecay   decoupled decay per unit learning rate, &gt;= 0 (torch's default 0.01)
 */
public record AdamWOptions(float learningRate, float beta1, float beta2, float epsilon, float weightDecay) {

    public AdamWOptions {
        check(learningRate > 0 && Float.isFinite(learningRate), "learningRate must be finite and > 0", learningRate);
        check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)", beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1)", beta2);
        check(epsilon > 0 && Float.isFinite(epsilon), "epsilon must be finite and > 0", epsilon);
        check(weightDecay >= 0 && Float.isFinite(weightDecay), "weightDecay must be finite and >= 0", weightDecay);
    }

    /** torch.optim.AdamW's defaults at the given learning rate. */
    public static AdamWOptions defaults(float learningRate) {
        return new AdamWOptions(learningRate, 0.9f, 0.999f, 1e-8f, 0.01f);
    }

    private static void check(boolean ok, String message, float value) {
        if (!ok) throw new IllegalArgumentException(message + ", found " + value);
    }
}
