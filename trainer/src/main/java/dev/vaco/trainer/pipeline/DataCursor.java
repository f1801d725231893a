package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.DatasetSpec;
import dev.vaco.datasets.LevelMix;
import dev.vaco.datasets.Datasets;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.SyntheticMath;

import dev.vaco.trainer.config.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The training stream with a position: a resumed run re-creates the seeded stream and skips what was consumed, so
 * it sees exactly the problems the uninterrupted run would have.
 */
public final class DataCursor {
    private final String dataset;
    private final String evalDataset;
    private final int heldOutCount;
    private final LevelMix mix;
    /** The synthetic levels held out for evaluation: the RL levels and the demonstrated ones. */
    private final LevelMix heldOutMix;
    private Iterator<Problem> it;
    /** A file's held-out head when no eval dataset is given; null otherwise. */
    private final List<Problem> heldOutHead;
    private long consumed;

    /**
     * @param evalDataset  held-out problems ("" = see {@link #heldOut()})
     * @param heldOutCount held-out problems per evaluation (run.eval_problems)
     */
    public DataCursor(String dataset, String evalDataset, int heldOutCount, long seed, LevelMix mix) {
        this(dataset, evalDataset, heldOutCount, seed, mix, mix);
    }

    /** @param heldOutMix the synthetic task's held-out levels when they differ from the training stream's */
    public DataCursor(String dataset, String evalDataset, int heldOutCount, long seed, LevelMix mix, LevelMix heldOutMix) {
        this.heldOutMix = heldOutMix;
        this.dataset = dataset;
        this.evalDataset = evalDataset;
        this.heldOutCount = heldOutCount;
        this.mix = mix;
        if (dataset.equals("synthetic")) {
            heldOutHead = null;
            it = SyntheticMath.stream(seed, mix); // never yields a problem of the test side
            return;
        }
        List<Problem> all = DatasetSpec.load(dataset, "auto", null, "train", 0, seed);
        List<Problem> train = all;
        if (evalDataset.isEmpty() && Files.exists(Path.of(dataset))) {
            // One file and nothing else to evaluate on: hold out its head, or "held-out" accuracy would be measured
            // on problems the run trains on.
            if (all.size() <= heldOutCount) {
                throw new IllegalArgumentException("run.dataset " + dataset + " has " + all.size() + " problems: too few to hold out "
                        + "run.eval_problems = " + heldOutCount + " and train on the rest; lower it or give run.eval_dataset");
            }
            heldOutHead = List.copyOf(all.subList(0, heldOutCount));
            train = all.subList(heldOutCount, all.size());
        } else {
            heldOutHead = null;
        }
        it = cycle(train, seed);
    }

    /** A run's stream and held-out set, the stream seeded with {@code seed}. */
    public static DataCursor of(TrainConfig cfg, long seed) {
        var run = cfg.run();
        return new DataCursor(run.dataset(), run.evalDataset(), run.evalProblems(), seed, run.levelMix(), cfg.heldOutMix());
    }

    /**
     * The worked solutions there are when they are limited ({@code sft.demonstrations} = n > 0): the first n distinct
     * problems of the warm start's stream (its seed; the demonstrated levels, or RL's own when they are the same).
     * The warm start and the demo's SFT control cycle over them ({@link #cycle}); empty when n is 0 (a worked solution
     * for every training problem).
     */
    public static List<Problem> demonstrationPool(TrainConfig cfg) {
        int n = cfg.sft().demonstrations();
        if (n == 0) return List.of();
        long seed = cfg.sft().seedOr(cfg.run().seed());
        return firstDistinct((cfg.levelsApart() ? synthetic(seed, cfg.sftMix(), 1) : of(cfg, seed)).train(), n);
    }

    /**
     * The questions of {@link #demonstrationPool} when it holds RL's own problems (the same levels): RL's stream (and
     * the demo's RFT control) leave them out, so that RL learns from the problems that have a final answer only.
     * Empty otherwise.
     */
    public static Set<String> demonstratedQuestions(TrainConfig cfg) {
        if (cfg.levelsApart()) return Set.of();
        Set<String> q = new HashSet<>();
        for (Problem p : demonstrationPool(cfg)) q.add(p.question());
        return q;
    }

    /** The built-in task's stream and test side. */
    public static DataCursor synthetic(long seed, LevelMix mix, int heldOutCount) {
        return new DataCursor("synthetic", "", heldOutCount, seed, mix);
    }

    public Iterator<Problem> train() {
        return new Iterator<>() {
            public boolean hasNext() { return true; }

            public Problem next() {
                consumed++;
                return it.next();
            }
        };
    }

    /**
     * The held-out problems: run.eval_dataset's first run.eval_problems if given; else the synthetic task's test side,
     * a Hub dataset's test split, or a file's first run.eval_problems (never trained on). The same for every run seed,
     * so that accuracies of different seeds (and the +points of an RL run over its warm start) are measured on one set.
     * (With a per-seed set the same warm-start model scored 50.0% on one seed's 500 problems and 55.8% on another's.)
     */
    public List<Problem> heldOut() {
        if (!evalDataset.isEmpty()) return DatasetSpec.load(evalDataset, "auto", null, "test", heldOutCount, EVAL_SEED);
        if (dataset.equals("synthetic") && !heldOutMix.equals(mix)) return perLevel();
        if (dataset.equals("synthetic")) return SyntheticMath.testSet(heldOutCount, EVAL_SEED ^ 0x5EEDL, mix);
        if (heldOutHead != null) return heldOutHead;
        return DatasetSpec.load(dataset, "auto", null, "test", heldOutCount, EVAL_SEED);
    }

    /**
     * A task whose demonstrated and answer-only levels differ: the same number of held-out problems from each level
     * (run.eval_problems / levels), so that each level's accuracy has the same interval.
     */
    private List<Problem> perLevel() {
        List<Problem> out = new java.util.ArrayList<>();
        List<Double> w = heldOutMix.weights();
        long levels = w.stream().filter(x -> x > 0).count();
        for (int i = 0; i < w.size(); i++) {
            if (w.get(i) > 0) out.addAll(SyntheticMath.testSet((int) (heldOutCount / levels), EVAL_SEED ^ (0x5EEDL + i), LevelMix.of(i + 1)));
        }
        return out;
    }

    /** {@code all} over and over, reshuffled every pass (pass k in the order of seed + k). */
    public static Iterator<Problem> cycle(List<Problem> all, long seed) {
        return new Iterator<>() {
            int i, pass;
            List<Problem> order = Datasets.shuffle(all, seed);

            public boolean hasNext() { return true; }

            public Problem next() {
                if (i == order.size()) { order = Datasets.shuffle(all, seed + ++pass); i = 0; }
                return order.get(i++);
            }
        };
    }

    /**
     * The first {@code n} problems of {@code stream} with distinct questions.
     *
     * @throws IllegalArgumentException when the stream keeps repeating itself before it has n of them
     */
    public static List<Problem> firstDistinct(Iterator<Problem> stream, int n) {
        Map<String, Problem> pool = new LinkedHashMap<>();
        for (long drawn = 0; pool.size() < n; drawn++) {
            if (drawn > 100L * n + 100_000) {
                throw new IllegalArgumentException("sft.demonstrations = " + n + ": the demonstrated problems have only "
                        + pool.size() + " distinct questions");
            }
            Problem p = stream.next();
            pool.putIfAbsent(p.question(), p);
        }
        return List.copyOf(pool.values());
    }

    /**
     * This stream without the problems whose question is in {@code questions}: RL's stream leaves out the
     * demonstrations, so that RL learns from the problems that have only a final answer.
     */
    public DataCursor excluding(Set<String> questions) {
        if (questions.isEmpty()) return this;
        Iterator<Problem> all = it;
        it = new Iterator<>() {
            public boolean hasNext() { return true; }

            public Problem next() {
                while (true) {
                    Problem p = all.next();
                    if (!questions.contains(p.question())) return p;
                }
            }
        };
        return this;
    }

    /** Seed of the held-out selection (0: the set seed-0 runs always used). */
    static final long EVAL_SEED = 0;

    public void skip(long n) {
        for (long i = 0; i < n; i++) { it.next(); consumed++; }
    }

    public long consumed() {
        return consumed;
    }
}
