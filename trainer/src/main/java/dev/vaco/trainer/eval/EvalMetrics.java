package dev.vaco.trainer.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Per-problem scores (pass@k, maj@k, mean@k), their mean over problems, and breakdowns by level and
 * subject. A score over a set of problems is always the plain mean of per-problem scores, so the same
 * per-problem arrays feed {@link Bootstrap}.
 */
public final class EvalMetrics {

    /** Label used in breakdowns for problems without a level or subject. */
    public static final String UNKNOWN = "(none)";

    /** Aggregate of one group of problems. */
    public record Summary(int problems, double mean) {
    }

    private EvalMetrics() {
    }

    /** Unbiased pass@k for one problem from all its n samples (n >= k). */
    public static double passAtK(ProblemSamples p, int k) {
        return PassAtK.estimate(p.n(), p.correctCount(), k);
    }

    /** Fraction of the first k samples that are correct. */
    public static double meanAtK(ProblemSamples p, int k) {
        requireK(p, k);
        int c = 0;
        for (int i = 0; i < k; i++) {
            if (p.samples().get(i).correct()) {
                c++;
            }
        }
        return (double) c / k;
    }

    /**
     * Majority vote over the first k samples: answers are grouped by {@code key} (the caller's
     * equivalence, e.g. the verifier's normal form); samples with no answer, or whose key is null, do not
     * vote. The winning group is the largest; ties go to the group whose first member came earliest. The
     * score is 1 if that first member is correct, else 0 (also 0 when nobody votes).
     */
    public static double majAtK(ProblemSamples p, int k, Function<String, String> key) {
        requireK(p, k);
        Map<String, Integer> count = new HashMap<>();
        Map<String, Integer> first = new LinkedHashMap<>();
        for (int i = 0; i < k; i++) {
            JudgedSample s = p.samples().get(i);
            String kk = s.answer() == null ? null : key.apply(s.answer());
            if (kk == null) {
                continue;
            }
            count.merge(kk, 1, Integer::sum);
            first.putIfAbsent(kk, i);
        }
        String best = null;
        for (Map.Entry<String, Integer> e : first.entrySet()) { // iteration in first-occurrence order
            if (best == null || count.get(e.getKey()) > count.get(best)) {
                best = e.getKey();
            }
        }
        return best != null && p.samples().get(first.get(best)).correct() ? 1.0 : 0.0;
    }

    /** Per-problem scores in input order. */
    public static double[] scores(List<ProblemSamples> problems, ToDoubleFunction<ProblemSamples> metric) {
        double[] out = new double[problems.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = metric.applyAsDouble(problems.get(i));
        }
        return out;
    }

    /** Mean of a metric over problems. */
    public static double mean(List<ProblemSamples> problems, ToDoubleFunction<ProblemSamples> metric) {
        return mean(scores(problems, metric));
    }

    /** Mean over problems with a seeded percentile-bootstrap interval. */
    public static Interval withInterval(List<ProblemSamples> problems, ToDoubleFunction<ProblemSamples> metric,
                                        double confidence, int resamples, long seed) {
        return Bootstrap.meanInterval(scores(problems, metric), confidence, resamples, seed);
    }

    /** Metric mean per level, levels in sorted order; missing levels under {@link #UNKNOWN}. */
    public static Map<String, Summary> byLevel(List<ProblemSamples> problems, ToDoubleFunction<ProblemSamples> metric) {
        return breakdown(problems, ProblemSamples::level, metric);
    }

    /** Metric mean per subject, subjects in sorted order; missing subjects under {@link #UNKNOWN}. */
    public static Map<String, Summary> bySubject(List<ProblemSamples> problems,
                                                 ToDoubleFunction<ProblemSamples> metric) {
        return breakdown(problems, ProblemSamples::subject, metric);
    }

    public static Map<String, Summary> breakdown(List<ProblemSamples> problems,
                                                 Function<ProblemSamples, String> groupBy,
                                                 ToDoubleFunction<ProblemSamples> metric) {
        Map<String, List<ProblemSamples>> groups = new TreeMap<>();
        for (ProblemSamples p : problems) {
            String g = groupBy.apply(p);
            groups.computeIfAbsent(g == null ? UNKNOWN : g, x -> new ArrayList<>()).add(p);
        }
        Map<String, Summary> out = new LinkedHashMap<>();
        groups.forEach((g, ps) -> out.put(g, new Summary(ps.size(), mean(ps, metric))));
        return out;
    }

    static double mean(double[] xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("expected at least one value, found none");
        }
        double sum = 0;
        for (double x : xs) {
            sum += x;
        }
        return sum / xs.length;
    }

    private static void requireK(ProblemSamples p, int k) {
        if (k < 1 || k > p.n()) {
            throw new IllegalArgumentException("problem " + p.problemId() + ": k must be in [1, n=" + p.n()
                    + "], found " + k);
        }
    }
}
