package dev.vaco.learner;

import dev.vaco.datasets.Problem;

/**
 * One scored response: the unit the learner trains on. Everything the off-policy correction needs comes from the
 * inference server at sampling time and is never recomputed.
 *
 * @param group       index of its prompt group (G responses of one prompt share it)
 * @param prompt      [P] prompt token ids
 * @param completion  [C] sampled token ids
 * @param behaviour   [C] lb_t: behaviour log-prob of each sampled token (after temperature)
 * @param versions    [C] v_b(t): policy version that sampled each token
 * @param reward      R_i from the verifier (1 correct, 0 otherwise)
 * @param verdict     the verifier's status name (CORRECT, WRONG, NO_ANSWER, UNPARSEABLE, TIMEOUT)
 * @param finish      the server's finish reason
 */
public record Rollout(Problem problem, int group, int[] prompt, int[] completion, float[] behaviour, long[] versions,
                      float reward, String verdict, String finish) {
    public Rollout {
        if (completion.length != behaviour.length || completion.length != versions.length) {
            throw new IllegalArgumentException("completion, behaviour log-probs and versions must have one entry per token, found "
                    + completion.length + "/" + behaviour.length + "/" + versions.length);
        }
    }

    public int length() {
        return completion.length;
    }

    /** The oldest version that sampled any of its tokens (what staleness bounds refer to). */
    public long oldestVersion() {
        long v = Long.MAX_VALUE;
        for (long x : versions) v = Math.min(v, x);
        return v == Long.MAX_VALUE ? -1 : v;
    }
}
