package dev.vaco.server.engine;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Random LoRA adapters for tests and benchmarks (in the engine's package: the server's tests above it use them too). */
public final class RandomAdapters {
    private RandomAdapters() {}

    /** An adapter of rank r with every A and B random (PEFT's names and shapes); also the benchmarks' adapter. */
    public static Map<String, Tensor> of(ModelConfig c, LoraConfig lora, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (LoraTarget t : lora.targets()) {
                for (String m : new String[] {"A", "B"}) {
                    long[] shape = m.equals("A") ? t.shapeA(c, lora.r()) : t.shapeB(c, lora.r());
                    float[] v = new float[(int) (shape[0] * shape[1])];
                    double scale = 1 / Math.sqrt(shape[1]);
                    for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
                    out.put(t.peftName(l, m), Tensor.of(t.peftName(l, m), shape, v));
                }
            }
        }
        return out;
    }
}
