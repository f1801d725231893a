package dev.vaco.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A full set of model parameters by Hugging Face name, in {@link ModelConfig#tensorShapes()} order. */
public final class Weights {
    private final Map<String, Tensor> tensors;

    private Weights(Map<String, Tensor> tensors) {
        this.tensors = tensors;
    }

    /**
     * Checks that {@code found} holds exactly the parameters {@code config} needs with the right shapes.
     * Tensors the model does not use are refused too: a checkpoint of another architecture must not load silently.
     * The one exception is {@code lm_head.weight} in a tied model, which HF checkpoints sometimes carry; it is dropped.
     *
     * @param origin named in every error message (a file, or "weight upload")
     */
    public static Weights validated(ModelConfig config, Map<String, Tensor> found, String origin) {
        Map<String, long[]> expected = config.tensorShapes();
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (var e : expected.entrySet()) {
            Tensor t = found.get(e.getKey());
            if (t == null) {
                throw new ModelFormatException(origin + ": missing tensor '" + e.getKey() + "' (expected shape "
                        + Arrays.toString(e.getValue()) + ")");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new ModelFormatException(origin + ": tensor '" + e.getKey() + "' has shape " + t.shapeString()
                        + ", expected " + Arrays.toString(e.getValue()));
            }
            ordered.put(e.getKey(), t);
        }
        List<String> unexpected = new ArrayList<>();
        for (String name : found.keySet()) {
            if (!expected.containsKey(name) && !(config.tieWordEmbeddings() && name.equals("lm_head.weight"))) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new ModelFormatException(origin + ": unexpected tensor(s) for a " + config.modelType() + " model: "
                    + unexpected.subList(0, Math.min(5, unexpected.size())) + (unexpected.size() > 5 ? " ..." : ""));
        }
        return new Weights(ordered);
    }

    /**
     * A LoRA adapter in PEFT's tensor names carried where weights go (a push to servers with LoRA inputs, which apply
     * it to their base): not a full set of parameters, and never validated against a config here (the server does).
     *
     * @throws ModelFormatException a name that is not PEFT's ({@code base_model.model.} prefix)
     */
    public static Weights ofAdapter(Map<String, Tensor> peft) {
        for (String n : peft.keySet()) {
            if (!n.startsWith(ADAPTER_PREFIX)) throw new ModelFormatException("adapter tensor '" + n + "' is not in PEFT's names");
        }
        if (peft.isEmpty()) throw new ModelFormatException("an adapter without tensors");
        return new Weights(new LinkedHashMap<>(peft));
    }

    private static final String ADAPTER_PREFIX = "base_model.model.";

    /** Whether this is an adapter ({@link #ofAdapter}), not a full model. */
    public boolean isAdapter() {
        return tensors.keySet().iterator().next().startsWith(ADAPTER_PREFIX);
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor named '" + name + "'");
        return t;
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public Collection<Tensor> tensors() {
        return tensors.values();
    }

    public Map<String, Tensor> asMap() {
        return java.util.Collections.unmodifiableMap(tensors);
    }

    /** A deep copy: the trainer keeps updating its own buffers, the server must keep the pushed ones. */
    public Weights copy() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Tensor t : tensors.values()) m.put(t.name(), t.copy());
        return new Weights(m);
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.numel();
        return n;
    }
}
