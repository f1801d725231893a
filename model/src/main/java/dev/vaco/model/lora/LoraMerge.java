package dev.vaco.model.lora;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PEFT's {@code merge_and_unload}: every targeted weight becomes {@code W + scaling * B A}, the result a plain model
 * that loads anywhere. Plain Java (sums in double), so {@code vaco merge-lora} needs no libtorch; the learner's own
 * export merges the same way in libtorch ({@code TorchPolicy.exportWeights}).
 */
public final class LoraMerge {
    private LoraMerge() {}

    public static Weights merge(ModelConfig config, Weights base, AdapterFiles.Adapter adapter) {
        LoraConfig c = adapter.config();
        int r = c.r();
        double s = c.scaling();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Tensor t : base.tensors()) out.put(t.name(), t);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            for (LoraTarget target : c.targets()) {
                Tensor w = base.get(target.weightName(l));
                float[] a = adapter.tensors().get(target.peftName(l, "A")).toArray();   // [r, in]
                float[] b = adapter.tensors().get(target.peftName(l, "B")).toArray();   // [out, r]
                int in = target.inFeatures(config), outF = target.outFeatures(config);
                float[] merged = w.toArray();                                           // [out, in]
                double[] row = new double[in];
                for (int o = 0; o < outF; o++) {
                    Arrays.fill(row, 0);
                    for (int k = 0; k < r; k++) {
                        double bk = b[o * r + k];
                        for (int i = 0; i < in; i++) row[i] += bk * a[k * in + i];
                    }
                    for (int i = 0; i < in; i++) merged[o * in + i] = (float) (merged[o * in + i] + s * row[i]);
                }
                out.put(w.name(), Tensor.of(w.name(), w.shape(), merged));
            }
        }
        return Weights.validated(config, out, "merge of a LoRA adapter");
    }
}
