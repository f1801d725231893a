package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.pytorch.jni.JniUtils;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The LoRA adapters of a policy: for each targeted linear layer {@code y = x W^T} of each decoder layer, {@code A [r, in]}
 * and {@code B [out, r]} (the only arrays that require gradients), applied as PEFT's {@code lora.Linear} does:
 * {@code y + scaling * B(A(dropout(x)))}. Initialised as PEFT's default ({@code init_lora_weights=True}): A
 * kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), B zeros, so that the adapted model starts equal
 * to the base.
 *
 * <p>Dropout acts only while gradients are recorded (a training pass); the no-grad passes (the learner's log-probs of
 * the iteration's start, evaluation) see the adapter whole, as PEFT's module in eval mode.
 */
final class LoraLayers {
    private final ModelConfig model;
    private final LoraConfig config;
    private final Map<String, NDArray> parameters;                // PEFT name -> A or B
    private final List<Map<LoraTarget, NDArray[]>> layers;        // per layer: target -> {A, B}
    private final NDArray scaling;                                // 0-d fp32, libtorch-owned (engine notes)

    private LoraLayers(ModelConfig model, LoraConfig config, Map<String, NDArray> parameters, List<Map<LoraTarget, NDArray[]>> layers,
                       NDArray scaling) {
        this.model = model;
        this.config = config;
        this.parameters = Collections.unmodifiableMap(parameters);
        this.layers = layers;
        this.scaling = scaling;
    }

    /** Fresh adapters for every layer of {@code model}, A drawn from {@code seed}. */
    static LoraLayers create(NDManager manager, ModelConfig model, LoraConfig config, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, NDArray> params = new LinkedHashMap<>();
        List<Map<LoraTarget, NDArray[]>> layers = new ArrayList<>();
        int r = config.r();
        for (int l = 0; l < model.numHiddenLayers(); l++) {
            Map<LoraTarget, NDArray[]> byTarget = new EnumMap<>(LoraTarget.class);
            for (LoraTarget t : config.targets()) {
                int in = t.inFeatures(model);
                float[] a = new float[r * in];
                double bound = 1 / Math.sqrt(in); // kaiming_uniform_(a=sqrt(5)): gain sqrt(1/3), bound sqrt(3) gain / sqrt(fan_in)
                for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
                NDArray pa = parameter(manager, params, t.peftName(l, "A"), a, t.shapeA(model, r));
                NDArray pb = parameter(manager, params, t.peftName(l, "B"), new float[t.outFeatures(model) * r],
                        t.shapeB(model, r));
                byTarget.put(t, new NDArray[] {pa, pb});
            }
            layers.add(byTarget);
        }
        NDArray scaling = NativeArrays.keep(NativeArrays.scalar(manager, config.scaling()));
        return new LoraLayers(model, config, params, layers, scaling);
    }

    private static NDArray parameter(NDManager manager, Map<String, NDArray> params, String name, float[] data,
                                     long[] shape) {
        NDArray p = NativeArrays.keep(NativeArrays.floats(manager, data, new Shape(shape)));
        p.setName(name);
        p.setRequiresGradient(true);
        params.put(name, p);
        return p;
    }

    LoraConfig config() {
        return config;
    }

    /** A and B of every adapted layer by PEFT name, in layer then target order. */
    Map<String, NDArray> parameters() {
        return parameters;
    }

    /**
     * Adds the LoRA terms {@code scaling * dropout(x) A^T B^T} of {@code group} (layers whose outputs are concatenated
     * along the last axis of {@code y}, as the fused q/k/v and gate/up GEMMs produce them; one target for o and down)
     * into {@code y} in place: {@code y} is a plain GEMM output that backward does not need, so autograd allows it.
     * Returns {@code y}; unchanged when no layer of the group is adapted.
     *
     * <p>Memory: the policy's scope keeps every intermediate handle alive until the forward returns, so an adapted
     * copy of {@code y} would stay for the whole pass. In place, and with the scaling on the rank-r side and the
     * full-size products closed once added (autograd keeps none of them), LoRA adds only rank-r arrays per layer.
     */
    NDArray adaptInPlace(NDArray y, NDArray x, int layer, LoraTarget... group) {
        Map<LoraTarget, NDArray[]> byTarget = layers.get(layer);
        boolean any = false;
        for (LoraTarget t : group) any |= byTarget.containsKey(t);
        if (!any) return y;
        NDList deltas = new NDList();
        try {
            for (LoraTarget t : group) {
                NDArray[] ab = byTarget.get(t);
                if (ab == null) {
                    Shape s = x.getShape();
                    deltas.add(x.getManager().zeros(s.slice(0, s.dimension() - 1).add(t.outFeatures(model)),
                            x.getDataType()));
                    continue;
                }
                NDArray in = config.dropout() > 0 && JniUtils.isGradMode()
                        ? Dropout.dropout(x, (float) config.dropout(), true).singletonOrThrow() : x;
                NDArray low = Linear.linear(in, ab[0]).singletonOrThrow().mul(scaling);   // [.., r]
                deltas.add(Linear.linear(low, ab[1]).singletonOrThrow());                 // [.., out]
            }
            if (deltas.size() == 1) return y.addi(deltas.get(0));
            try (NDArray all = NDArrays.concat(deltas, -1)) {
                return y.addi(all);
            }
        } finally {
            deltas.close();
        }
    }

    /**
     * {@code scaling * B A} {@code [out, in]} of the weight named {@code weightName} (HF name), or null when that
     * weight is not adapted. Call with gradient recording off.
     */
    NDArray delta(String weightName) {
        for (int l = 0; l < layers.size(); l++) {
            for (var e : layers.get(l).entrySet()) {
                if (e.getKey().weightName(l).equals(weightName)) {
                    try (NDArray ba = e.getValue()[1].matMul(e.getValue()[0])) { // freed: exported every push
                        return ba.mul(scaling);
                    }
                }
            }
        }
        return null;
    }

    /** The adapter tensors, PEFT-named, as fp32 copies. */
    Map<String, Tensor> export() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        parameters.forEach((name, p) -> out.put(name, Tensor.of(name, p.getShape().getShape(), p.toFloatArray())));
        return out;
    }

    /** Overwrites every A and B in place; {@code tensors} must hold each PEFT name with its shape. */
    void load(Map<String, Tensor> tensors, NDManager scratch) {
        for (var e : parameters.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("adapter tensor '" + e.getKey() + "' is missing");
            if (!new Shape(t.shape()).equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("adapter tensor '" + e.getKey() + "' has shape " + t.shapeString()
                        + ", expected " + e.getValue().getShape());
            }
            e.getValue().set(new NDIndex("..."),
                    NativeArrays.floats(scratch, t.data(), new Shape(t.shape())));
        }
    }
}
