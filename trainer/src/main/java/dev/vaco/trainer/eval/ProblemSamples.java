package dev.vaco.trainer.eval;

import java.util.List;
import java.util.Objects;

/**
 * All samples drawn for one problem, in generation order (metrics @k use the first k), plus the labels
 * used for breakdowns.
 *
 * @param level   difficulty label, or null
 * @param subject subject label, or null
 */
public record ProblemSamples(String problemId, String level, String subject, List<JudgedSample> samples) {

    public ProblemSamples {
        Objects.requireNonNull(problemId, "problemId");
        Objects.requireNonNull(samples, "samples");
        samples = List.copyOf(samples);
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("problem " + problemId + ": expected at least one sample, found none");
        }
    }

    public int n() {
        return samples.size();
    }

    public int correctCount() {
        int c = 0;
        for (JudgedSample s : samples) {
            if (s.correct()) {
                c++;
            }
        }
        return c;
    }
}
