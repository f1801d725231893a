package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The policy being trained: a Llama / Qwen2 decoder whose parameters are DJL (libtorch) arrays named as in Hugging
 * Face checkpoints, with a forward pass numerically equal to {@code transformers}' eager implementation.
 *
 * <p>LoRA ({@link #create(ModelConfig, Weights, LoraConfig, long)} with {@code lora.r > 0}): the base parameters are
 * frozen and the adapters' A and B ({@link #trainable()}) are all that requires gradients; {@link #exportWeights()}
 * merges them in, {@link #exportAdapter()} gives them in PEFT's names, {@link #withoutAdapter()} is the base alone.
 *
 * <p>Gradients: every trainable array has {@code requiresGradient}; run the forward inside the JVM's one
 * {@code GradientCollector} and call {@code backward} on a scalar. Gradients accumulate across backward calls until
 * {@link #zeroGradients()} (DJL never zeroes them). A tied model has one {@code model.embed_tokens.weight} array used
 * by the embedding and as {@code lm_head}, so it receives the gradients of both uses.
 *
 * <p>Memory: parameters live in this policy's manager until {@link #close()}. Forward results belong to the manager
 * of the {@code tokens} array and are registered with the caller's {@code NDScope} if one is open (wrap a training
 * step in one); intermediates are released when the call returns (autograd keeps what backward needs). Inputs are
 * copied to libtorch memory first, so callers may close their token arrays before backward.
 *
 * <p>Not thread-safe: one trainer thread uses it (libtorch's grad mode is per thread anyway).
 */
public final class TorchPolicy implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> parameters; // HF name -> parameter, in ModelConfig.tensorShapes() order
    private final PositionTables tables;
    private final DecoderForward forward;
    private final LoraLayers adapters;   // null: every parameter is trained
    private final boolean view;          // withoutAdapter(): shares the owner's arrays, closes nothing
    private boolean closed;

    private TorchPolicy(ModelConfig config, NDManager manager, Map<String, NDArray> parameters, PositionTables tables,
                        LoraLayers adapters, boolean view) {
        this.config = config;
        this.manager = manager;
        this.parameters = Collections.unmodifiableMap(parameters);
        this.tables = tables;
        this.adapters = adapters;
        this.view = view;
        NDArray eps = NativeArrays.keep(NativeArrays.scalar(manager, config.rmsNormEps()));
        List<LayerParameters> layers = new ArrayList<>();
        for (int l = 0; l < config.numHiddenLayers(); l++) layers.add(LayerParameters.of(parameters, config, l));
        NDArray embed = parameters.get("model.embed_tokens.weight");
        NDArray lmHead = config.tieWordEmbeddings() ? embed : parameters.get("lm_head.weight");
        this.forward = new DecoderForward(config, embed, layers, parameters.get("model.norm.weight"), lmHead, tables,
                eps, adapters);
    }

    /** A policy with its own copy of {@code weights} (checked against {@code config}), every parameter trainable. */
    public static TorchPolicy create(ModelConfig config, Weights weights) {
        return create(config, weights, LoraConfig.defaults(), 0);
    }

    /**
     * A policy with its own copy of {@code weights}; with {@code lora} enabled the base is frozen (no gradient, no
     * optimiser state) and fresh adapters, A drawn from {@code seed}, are the only trainable arrays.
     */
    public static TorchPolicy create(ModelConfig config, Weights weights, LoraConfig lora, long seed) {
        Weights checked = Weights.validated(config, weights.asMap(), "TorchPolicy.create");
        NDManager manager = Engines.pytorch().newBaseManager();
        try {
            Map<String, NDArray> params = new LinkedHashMap<>();
            for (Tensor t : checked.tensors()) {
                NDArray p = NativeArrays.keep(NativeArrays.floats(manager, t.data(), new Shape(t.shape())));
                p.setName(t.name());
                p.setRequiresGradient(!lora.enabled());
                params.put(t.name(), p);
            }
            LoraLayers adapters = lora.enabled() ? LoraLayers.create(manager, config, lora, seed) : null;
            PositionTables tables = new PositionTables(manager, config.ropeInverseFrequencies(),
                    config.maxPositionEmbeddings(), (float) (1.0 / Math.sqrt(config.headDim())));
            return new TorchPolicy(config, manager, params, tables, adapters, false);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * The base alone, adapters off, sharing this policy's arrays (PEFT's {@code disable_adapter()}): the KL reference of
     * a LoRA run without a second copy of the model. Valid while this policy is open; closing it frees nothing.
     */
    public TorchPolicy withoutAdapter() {
        ensureOpen();
        return new TorchPolicy(config, manager, parameters, tables, null, true);
    }

    public ModelConfig config() {
        return config;
    }

    /** Parameters by Hugging Face name (no {@code lm_head.weight} when tied), in {@code tensorShapes()} order. */
    public Map<String, NDArray> parameters() {
        return parameters;
    }

    /**
     * What the optimiser updates: the adapters' A and B by PEFT name under LoRA, else {@link #parameters()}. Only
     * these require gradients.
     */
    public Map<String, NDArray> trainable() {
        return adapters != null ? adapters.parameters() : parameters;
    }

    /** The LoRA settings, or null when every parameter is trained. */
    public LoraConfig lora() {
        return adapters == null ? null : adapters.config();
    }

    /** A base parameter by HF name or an adapter array by PEFT name. */
    public NDArray parameter(String name) {
        NDArray p = parameters.get(name);
        if (p == null && adapters != null) p = adapters.parameters().get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named '" + name + "'");
        return p;
    }

    /** The manager owning the parameters; optimizer state belongs here too. */
    NDManager manager() {
        return manager;
    }

    // ------------------------------------------------------------------------------------------- weights

    /**
     * A copy of the current parameters as {@link Tensor}s with HF names (for safetensors and the inference server).
     * Under LoRA the adapters are merged in ({@code W + scaling * B A}, PEFT's {@code merge_and_unload}): a full model
     * any server takes as it is.
     */
    public Weights exportWeights() {
        ensureOpen();
        Map<String, Tensor> out = new LinkedHashMap<>();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager scratch = manager.newSubManager()) {
            for (var e : parameters.entrySet()) {
                NDArray p = e.getValue();
                NDArray delta = adapters == null ? null : adapters.delta(e.getKey());
                if (delta != null) {
                    delta.attach(scratch);
                    p = p.add(delta);
                    p.attach(scratch);
                }
                Tensor t = Tensor.zeros(e.getKey(), p.getShape().getShape());
                ByteBuffer bytes = p.toByteBuffer().order(ByteOrder.nativeOrder());
                t.data().put(bytes.asFloatBuffer()).flip();
                out.put(e.getKey(), t);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return Weights.validated(config, out, "TorchPolicy.exportWeights");
    }

    /** The adapters' A and B by PEFT name, fp32 copies ({@code adapter_model.safetensors}). LoRA policies only. */
    public Map<String, Tensor> exportAdapter() {
        ensureOpen();
        return requireAdapters().export();
    }

    /** Overwrites A and B in place (resume, or an adapter read from files); every PEFT name with its shape. */
    public void loadAdapter(Map<String, Tensor> tensors) {
        ensureOpen();
        LoraLayers a = requireAdapters();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager scratch = manager.newSubManager()) {
            a.load(tensors, scratch);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private LoraLayers requireAdapters() {
        if (adapters == null) throw new IllegalStateException("this policy has no LoRA adapters (lora.r = 0)");
        return adapters;
    }

    /**
     * Overwrites every parameter in place (same arrays, so optimizer state keyed by them and any references stay
     * valid). Gradients are left as they are. Must not be called while a graph through the old values still needs
     * backward.
     */
    public void loadWeights(Weights weights) {
        ensureOpen();
        Weights checked = Weights.validated(config, weights.asMap(), "TorchPolicy.loadWeights");
        boolean gradMode = JniUtils.isGradMode();
        // An in-place write into a leaf that requires grad is an autograd error unless recording is off.
        JniUtils.setGradMode(false);
        try (NDManager scratch = manager.newSubManager()) {
            for (Tensor t : checked.tensors()) {
                NDArray src = NativeArrays.floats(scratch, t.data(), new Shape(t.shape()));
                parameters.get(t.name()).set(new NDIndex("..."), src); // x[...] = src: libtorch copy_, bit-exact
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    // ------------------------------------------------------------------------------------------- forward

    /** Logits {@code [B, T, V]} for right-padded int tokens {@code [B, T]}. */
    public NDArray logits(NDArray tokens) {
        ensureOpen();
        return scoped(() -> forward.logits(NativeArrays.indices(tokens)));
    }

    /**
     * {@code [B, T]}: {@code log p(targets[b, t] | tokens[b, 0..t])}, via log_softmax and gather. Usually
     * {@code targets[b, t] = tokens[b, t + 1]}; positions past a row's length are meaningless and must be masked by
     * the caller.
     */
    public NDArray tokenLogProbs(NDArray tokens, NDArray targets) {
        return tokenLogProbs(tokens, targets, 1f);
    }

    /**
     * As {@link #tokenLogProbs(NDArray, NDArray)}, of the distribution the server samples from at
     * {@code temperature}: {@code log_softmax(logits / temperature)}.
     */
    public NDArray tokenLogProbs(NDArray tokens, NDArray targets, float temperature) {
        checkScoring(tokens, targets, temperature);
        return scoped(() -> picked(logSoftmax(NativeArrays.indices(tokens), temperature), targets)); // [B, T]
    }

    /**
     * {@code [2, B, T]}: the log-probs of {@link #tokenLogProbs(NDArray, NDArray, float)} and the entropy (nats) of
     * each next-token distribution at {@code temperature}, from one forward pass (the learner needs both at the start
     * of every iteration; two passes cost a sixth of its step).
     */
    public NDArray tokenLogProbsAndEntropy(NDArray tokens, NDArray targets, float temperature) {
        checkScoring(tokens, targets, temperature);
        return scoped(() -> {
            NDArray logProbs = logSoftmax(NativeArrays.indices(tokens), temperature);   // [B, T, V]
            NDArray entropy = logProbs.exp().mul(logProbs).sum(new int[] {-1}).neg();   // [B, T]
            return NDArrays.stack(new NDList(picked(logProbs, targets), entropy));      // [2, B, T]
        });
    }

    private void checkScoring(NDArray tokens, NDArray targets, float temperature) {
        ensureOpen();
        checkTemperature(temperature);
        if (!targets.getShape().equals(tokens.getShape())) {
            throw new IllegalArgumentException("targets " + targets.getShape() + " must have the shape of tokens "
                    + tokens.getShape());
        }
    }

    /** {@code logProbs [B, T, V]} at the {@code targets [B, T]} ids: {@code [B, T]}. */
    private static NDArray picked(NDArray logProbs, NDArray targets) {
        return logProbs.gather(NativeArrays.indices(targets).expandDims(-1), -1).squeeze(-1);
    }

    private NDArray logSoftmax(NDArray tokens64, float temperature) {
        NDArray logits = forward.logits(tokens64);                                      // [B, T, V]
        if (temperature != 1f) {
            // HF's TemperatureLogitsWarper divides; a 0-d libtorch scalar (never div(Number): see NativeArrays).
            logits = logits.div(NativeArrays.scalar(tokens64.getManager(), temperature));
        }
        return logits.logSoftmax(-1);
    }

    private static void checkTemperature(float temperature) {
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, found " + temperature);
        }
    }

    /**
     * Runs {@code body} in its own {@link NDScope} so that every intermediate handle is closed on return, and hands
     * the result to the caller's scope (if any).
     */
    private static NDArray scoped(Supplier<NDArray> body) {
        NDArray result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            result = body.get();
            NDScope.unregister(result);
        }
        NDScope.register(result);
        return result;
    }

    // ------------------------------------------------------------------------------------------- gradients

    /** Sets every trainable array's gradient to zero (libtorch {@code grad.zero_()}); call before each backward. */
    public void zeroGradients() {
        ensureOpen();
        for (NDArray p : trainable().values()) JniUtils.zeroGrad((PtNDArray) p);
    }

    /** The gradient of one parameter as a new fp32 copy in {@code into}'s memory (zeros before any backward). */
    public NDArray gradient(String name, NDManager into) {
        try (NDArray g = parameter(name).getGradient()) {
            NDArray copy = g.toType(DataType.FLOAT32, true);
            copy.attach(into);
            return copy;
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("TorchPolicy is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (view) return;
        tables.close();
        manager.close();
    }
}
