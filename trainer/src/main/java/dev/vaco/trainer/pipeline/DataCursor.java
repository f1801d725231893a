package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.DatasetSpec;
import dev.vaco.datasets.LevelMix;
import dev.vaco.datasets.Datasets;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.SyntheticMath;

import java.util.Iterator;
import java.util.List;

/**
 * The training stream with a position: a resumed run re-creates the seeded stream and skips what was consumed, so
 * it sees exactly the problems the uninterrupted run would have.
 */
public final class DataCursor {
    private final String dataset;
    private final Iterator<Problem> it;
    private long consumed;

    private final LevelMix mix;

    public DataCursor(String dataset, long seed, LevelMix mix) {
        this.dataset = dataset;
        this.mix = mix;
        if (dataset.equals("synthetic")) {
            it = SyntheticMath.stream(seed, mix);
        } else {
            List<Problem> train = DatasetSpec.load(dataset, "auto", null, "train", 0, seed);
            it = new Iterator<>() {
                int i;
                List<Problem> order = Datasets.shuffle(train, seed);

                public boolean hasNext() { return true; }

                public Problem next() {
                    if (i == order.size()) { order = Datasets.shuffle(train, seed + i); i = 0; }
                    return order.get(i++);
                }
            };
        }
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
     * The held-out problems: the same for every run seed, so that accuracies of different seeds (and the +points of
     * an RL run over its warm start) are measured on one set. (With a per-seed set the same warm-start model scored
     * 50.0% on one seed's 500 problems and 55.8% on another's.)
     */
    public List<Problem> heldOut(int n) {
        return dataset.equals("synthetic") ? SyntheticMath.testSet(n, EVAL_SEED ^ 0x5EEDL, mix)
                : DatasetSpec.load(dataset, "auto", null, "test", n, EVAL_SEED);
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
