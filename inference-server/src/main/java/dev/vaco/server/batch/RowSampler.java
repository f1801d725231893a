package dev.vaco.server.batch;

import dev.vaco.server.sampling.Sampler;

import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Draws each row's next token from its logits, in parallel when the vocabulary is large: sampling is a pass over V per
 * row (0.67 ms at V = 128k), so at 64 rows it was ~45% of a step of a 91M model, while the ORT threads sat idle
 * between runs (parallel: +5-14% tokens/s there, docs/bench/serving.md). Each row carries its own RNG, so its draw
 * does not depend on which thread makes it; one {@link Sampler} (scratch buffers) per thread.
 */
final class RowSampler implements AutoCloseable {
    /** rows x V below which one thread samples alone (forking costs more than it saves). */
    private static final long PARALLEL_SAMPLING_WORK = 1L << 18;

    private final int vocabSize;
    private final ForkJoinPool pool;
    private final ThreadLocal<Sampler> samplers = ThreadLocal.withInitial(Sampler::new);

    RowSampler(int vocabSize, int threads) {
        this.vocabSize = vocabSize;
        this.pool = new ForkJoinPool(threads);
    }

    /**
     * @param logits [rows][V]: {@code logits[i]} for {@code rows.get(i)}
     * @return [rows] each row's draw under its request's sampling parameters
     */
    Sampler.Sampled[] draw(List<Row> rows, float[][] logits) {
        Sampler.Sampled[] out = new Sampler.Sampled[rows.size()];
        IntConsumer one = i -> {
            Row row = rows.get(i);
            out[i] = samplers.get().sample(logits[i], row.owner.request.params(), row.rng);
        };
        if (rows.size() < 2 || (long) rows.size() * vocabSize < PARALLEL_SAMPLING_WORK) {
            for (int i = 0; i < out.length; i++) one.accept(i);
        } else {
            pool.submit(() -> IntStream.range(0, out.length).parallel().forEach(one)).join();
        }
        return out;
    }

    @Override
    public void close() {
        pool.shutdown();
    }
}
