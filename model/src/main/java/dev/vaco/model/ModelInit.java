package dev.vaco.model;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded random initialisation, and the built-in tiny model. */
public final class ModelInit {
    private ModelInit() {}

    /**
     * The built-in model: a Llama block stack small enough to train on two cores (1.6M parameters; a
     * 32 x 64-token training step takes ~0.2 s here, see BENCHMARKS.md), with the character-level math tokenizer.
     */
    public static ModelConfig tinyConfig() {
        return new ModelConfig("llama", MathTokenizer.VOCAB_SIZE, 192, 512, 4, 6, 2, 32, 1e-5, 10000.0, 384, true, false,
                -1, MathTokenizer.EOS_ID);
    }

    /** The ~25M-parameter configuration used by the benchmarks (the engine notes' 23M shape with a wider MLP). */
    public static ModelConfig benchConfig25m() {
        return new ModelConfig("llama", MathTokenizer.VOCAB_SIZE, 512, 1536, 8, 8, 4, 64, 1e-5, 10000.0, 512, true, false,
                -1, MathTokenizer.EOS_ID);
    }

    /**
     * Hugging Face's initialisation for Llama: normal(0, 0.02) for every matrix, ones for RMSNorm weights, zeros for
     * biases. Deterministic in {@code seed}: one {@link SplittableRandom} split per tensor in name order.
     */
    public static Weights random(ModelConfig config, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (var e : config.tensorShapes().entrySet()) {
            String name = e.getKey();
            Tensor t = Tensor.zeros(name, e.getValue());
            SplittableRandom r = root.split();
            FloatBuffer d = t.data();
            if (name.endsWith("norm.weight")) {
                for (int i = 0; i < d.capacity(); i++) d.put(i, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int i = 0; i < d.capacity(); i++) d.put(i, (float) (gaussian(r) * 0.02));
            }
            m.put(name, t);
        }
        return Weights.validated(config, m, "random init");
    }

    /** Box-Muller; SplittableRandom has no nextGaussian on Java 17. */
    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** {@code vaco init-model DIR}: the tiny config, seeded weights, the built-in tokenizer. */
    public static ModelDir.Loaded initTiny(Path dir, long seed) throws IOException {
        return init(dir, tinyConfig(), seed);
    }

    public static ModelDir.Loaded init(Path dir, ModelConfig config, long seed) throws IOException {
        Weights w = random(config, seed);
        ModelDir.save(dir, config, w);
        MathTokenizer.write(dir);
        return new ModelDir.Loaded(dir, config, w);
    }
}
