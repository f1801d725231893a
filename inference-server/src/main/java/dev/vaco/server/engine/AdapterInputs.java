package dev.vaco.server.engine;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The LoRA inputs of a {@link LlamaGraph} built with {@link GraphOptions#loraRank()} R: one adapter as ORT tensors,
 * A [R, in] and B [out, R] for every projection of every layer. An adapter of rank r <= R fills the first r rows of A
 * and columns of B and leaves zeros after them (zero rank components add nothing), its scaling folded into B; a
 * projection it does not target, and the base model ({@link #none}), get zeros, shared per shape. This is all a
 * version costs on a LoRA server: the base weights stay the session's, once.
 */
public final class AdapterInputs implements AutoCloseable {
    private final Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
    private final long bytes;

    private AdapterInputs(Map<String, FloatBuffer> buffers, Map<String, long[]> shapes) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long b = 0;
        try {
            for (var e : buffers.entrySet()) {
                inputs.put(e.getKey(), OnnxTensor.createTensor(env, e.getValue().duplicate().position(0), shapes.get(e.getKey())));
            }
        } catch (OrtException | RuntimeException ex) {
            close();
            throw ex;
        }
        Set<FloatBuffer> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        distinct.addAll(buffers.values());
        for (FloatBuffer f : distinct) b += 4L * f.capacity();
        this.bytes = b;
    }

    /** Zeros everywhere: the base model on a LoRA session. */
    public static AdapterInputs none(ModelConfig c, int maxRank) {
        return of(c, maxRank, null, Map.of());
    }

    /**
     * An adapter in PEFT's tensor names ({@link LoraTarget#peftName}, as {@code AdapterFiles.read} returns them) with
     * its settings; {@code config.r()} must be at most {@code maxRank}.
     *
     * @throws IllegalArgumentException a rank above {@code maxRank} or a missing / mis-shaped tensor
     */
    public static AdapterInputs of(ModelConfig c, int maxRank, LoraConfig config, Map<String, Tensor> peft) {
        if (config != null && config.r() > maxRank) {
            throw new IllegalArgumentException("adapter rank " + config.r() + " exceeds --max-lora-rank " + maxRank);
        }
        Map<String, FloatBuffer> buffers = new HashMap<>();
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, FloatBuffer> zeros = new HashMap<>();
        Set<LoraTarget> targeted = config == null ? Set.of() : Set.copyOf(config.targets());
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (LoraTarget t : LoraTarget.values()) {
                int in = t.inFeatures(c), out = t.outFeatures(c);
                String an = LlamaGraph.loraA(l, t), bn = LlamaGraph.loraB(l, t);
                shapes.put(an, new long[] {maxRank, in});
                shapes.put(bn, new long[] {out, maxRank});
                if (!targeted.contains(t)) {
                    buffers.put(an, zeros.computeIfAbsent("A" + in, k -> Tensor.allocate((long) maxRank * in)));
                    buffers.put(bn, zeros.computeIfAbsent("B" + out, k -> Tensor.allocate((long) out * maxRank)));
                    continue;
                }
                int r = config.r();
                FloatBuffer a = take(peft, t.peftName(l, "A"), t.shapeA(c, r)), bm = take(peft, t.peftName(l, "B"), t.shapeB(c, r));
                FloatBuffer pa = Tensor.allocate((long) maxRank * in), pb = Tensor.allocate((long) out * maxRank);
                pa.put(a); // rows 0..r-1 of A; the rest stay zero
                // B row by row through one scaled row array (bulk copies): 0.5B's 35 MB adapter took 35-50 ms to bind
                // with an element-wise copy of each A and B, which was most of its push
                float s = (float) config.scaling();
                float[] row = new float[maxRank];
                for (int o = 0; o < out; o++) {
                    bm.get(row, 0, r);
                    for (int k = 0; k < r; k++) row[k] *= s;
                    pb.put(o * maxRank, row, 0, maxRank);
                }
                buffers.put(an, pa);
                buffers.put(bn, pb);
            }
        }
        try {
            return new AdapterInputs(buffers, shapes);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime refused an adapter tensor: " + e.getMessage(), e);
        }
    }

    /** The named tensor's values, read from position 0 (a view: the tensor is not copied). */
    private static FloatBuffer take(Map<String, Tensor> peft, String name, long[] shape) {
        Tensor t = peft.get(name);
        if (t == null) throw new IllegalArgumentException("adapter tensor '" + name + "' is missing");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("adapter tensor '" + name + "' has shape " + t.shapeString() + ", expected "
                    + Arrays.toString(shape));
        }
        return t.data().duplicate().position(0);
    }

    /** The graph inputs to bind on every run. */
    Map<String, OnnxTensor> inputs() {
        return inputs;
    }

    /** Memory these inputs hold (zeros shared per shape counted once). */
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        for (OnnxTensor t : inputs.values()) t.close();
        inputs.clear();
    }
}
