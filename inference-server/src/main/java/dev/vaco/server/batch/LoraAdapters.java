package dev.vaco.server.batch;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.server.engine.AdapterInputs;
import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.sampling.InvalidRequestException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * LoRA on a server started with LoRA inputs ({@code --enable-lora}): the session of the startup weights (the base),
 * which every adapter shares, and the named adapters of {@code --lora-modules}. A named adapter is a policy on the base
 * session (its own LoRA inputs only) that requests pick by {@code model}, with, while requests run on it, a batch of
 * its own (rows of different adapters cannot share a pass: the adapter inputs are bound per session run). Named
 * adapters come from {@code --lora-modules} at startup or are loaded and unloaded at run time (vLLM's
 * {@code /v1/load_lora_adapter}, {@code /v1/unload_lora_adapter}); they are never versioned: tokens they sample carry
 * the version the server started with.
 *
 * <p>Threads: the set of names is read and added to from any thread; the batches, and unloading, belong to the decode
 * thread. An unloaded adapter's running rows finish on it (its batch moves to {@link #retiring} under a key no name
 * can take); its inputs are closed when that batch empties.
 */
public final class LoraAdapters {
    private final ModelConfig config;
    /** The startup weights' session with LoRA inputs; null on a server without them. */
    private final OrtPolicy base;
    private final long baseVersion;
    private final Map<String, PolicyVersions.Resident> byName = new ConcurrentSkipListMap<>();
    private final Map<String, Batch> batches = new HashMap<>();
    /** Decode thread: unloaded adapters whose batch still has rows, by their batch's key. */
    private final Map<String, PolicyVersions.Resident> retiring = new HashMap<>();
    private long unloads;

    LoraAdapters(ModelConfig config, OrtPolicy base, long baseVersion) {
        this.config = config;
        this.base = base;
        this.baseVersion = baseVersion;
    }

    /** The LoRA rank R of the sessions (--max-lora-rank); 0 on a server without LoRA inputs. */
    public int rank() { return base == null ? 0 : base.loraRank(); }

    /**
     * Serves {@code tensors} (PEFT's names, rank at most {@link #rank()}) as the named adapter {@code name}: requests
     * whose {@code model} is {@code name} sample with it. At startup ({@code --lora-modules}) or while the server runs
     * ({@code /v1/load_lora_adapter}); any thread.
     *
     * @throws InvalidRequestException 400 naming {@code lora_name} when an adapter of that name is loaded, or
     *                                 {@code lora_path} when the adapter does not fit the sessions' inputs
     */
    public void load(String name, LoraConfig lora, Map<String, Tensor> tensors) {
        if (byName.containsKey(name)) throw alreadyLoaded(name);
        OrtPolicy p = onBase(lora, tensors, "lora_path");
        if (byName.putIfAbsent(name, new PolicyVersions.Resident(baseVersion, p)) != null) {
            p.close(); // another load of the same name won the race
            throw alreadyLoaded(name);
        }
    }

    private static InvalidRequestException alreadyLoaded(String name) {
        return new InvalidRequestException("lora_name", "The lora adapter '" + name + "' has already been loaded.");
    }

    /**
     * Decode thread: stops serving {@code name}. Requests for it that have not started fail with 404 from now on;
     * rows running on it finish there first, then its inputs are closed.
     *
     * @return false when no adapter of that name is loaded
     */
    boolean unload(String name) {
        PolicyVersions.Resident r = byName.remove(name);
        if (r == null) return false;
        Batch b = batches.remove(name);
        if (b != null && !b.rows.isEmpty()) {
            String key = "\0unloaded-" + (++unloads) + "-" + name; // a key no --lora-modules or load name can be
            batches.put(key, b);
            retiring.put(key, r);
        } else {
            r.policy.close();
        }
        return true;
    }

    /** A version that is the startup weights plus {@code tensors}: a policy on the base session. */
    OrtPolicy version(LoraConfig lora, Map<String, Tensor> tensors) {
        return onBase(lora, tensors, "body");
    }

    /** A policy on the base session with {@code tensors} as its inputs; a rank or shape that does not fit: 400 naming
     * {@code field}. */
    private OrtPolicy onBase(LoraConfig lora, Map<String, Tensor> tensors, String field) {
        OrtPolicy b = withBase();
        try {
            return b.withAdapter(AdapterInputs.of(config, b.loraRank(), lora, tensors));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, e.getMessage());
        }
    }

    private OrtPolicy withBase() {
        if (base == null) throw new InvalidRequestException("format", "this server has no LoRA inputs (serve with --enable-lora)");
        return base;
    }

    boolean has(String name) { return byName.containsKey(name); }

    /** Adapter names, sorted. */
    public List<String> names() { return new ArrayList<>(byName.keySet()); }

    PolicyVersions.Resident resident(String name) { return byName.get(name); }

    /** Decode thread: the batch of adapter {@code name}, made by {@code make} on first use. */
    Batch batch(String name, Supplier<Batch> make) {
        return batches.computeIfAbsent(name, k -> make.get());
    }

    /** Decode thread: the adapter {@code b} runs on, or null when {@code b} is not an adapter's batch. */
    PolicyVersions.Resident servingOf(Batch b) {
        for (var e : batches.entrySet()) {
            if (e.getValue() == b) return byName.getOrDefault(e.getKey(), retiring.get(e.getKey()));
        }
        return null;
    }

    /**
     * Decode thread: one step of every adapter batch; an emptied batch is let go (its KV memory freed), and with it an
     * unloaded adapter's inputs.
     */
    void stepAll(Consumer<Batch> step) {
        for (Iterator<Map.Entry<String, Batch>> it = batches.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Batch> e = it.next();
            step.accept(e.getValue());
            if (!e.getValue().rows.isEmpty()) continue;
            it.remove();
            PolicyVersions.Resident r = retiring.remove(e.getKey());
            if (r != null) r.policy.close();
        }
    }

    Iterable<Batch> batches() { return batches.values(); }

    int rows() {
        int n = 0;
        for (Batch b : batches.values()) n += b.rows.size();
        return n;
    }

    /** Decode thread: every batch let go (their rows failed); unloaded adapters' inputs closed. */
    void clearBatches() {
        batches.clear();
        retiring.values().forEach(r -> r.policy.close());
        retiring.clear();
    }

    /** Closes the adapters, then the base session (after the decode thread has stopped). */
    void closeAll() {
        for (PolicyVersions.Resident r : byName.values()) r.policy.close();
        byName.clear();
        retiring.values().forEach(r -> r.policy.close());
        retiring.clear();
        if (base != null) base.close();
    }
}
