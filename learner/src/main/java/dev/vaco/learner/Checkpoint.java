package dev.vaco.learner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelFormatException;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.learner.optim.AdamW;
import dev.vaco.learner.policy.TorchPolicy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A training checkpoint: {@code checkpoints/step-N/} holds the model as a Hugging Face directory (config.json,
 * model.safetensors, tokenizer files: it loads in {@code transformers} and in {@code vaco serve} as it is), the
 * AdamW moments ({@code optimizer.safetensors}), and {@code state.json} (step, policy version, optimiser position,
 * data cursor, seeds, anything the loop adds). A LoRA run's checkpoint holds the adapter in PEFT's format instead of
 * the model ({@code adapter_config.json}, {@code adapter_model.safetensors}; the base is the run's model).
 *
 * <p>Atomic: everything is written into {@code step-N.tmp/}, flushed, then the directory is renamed; a crash mid-write
 * leaves a {@code .tmp} directory that {@link #latest} never returns. {@code state.json} is written last, and a
 * checkpoint without it is not a checkpoint.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String STATE = "state.json", OPTIMIZER = "optimizer.safetensors";

    private Checkpoint() {}

    /** What a loop needs to continue. {@code extra} is the loop's own state (cursors, ledger position). */
    public record State(int step, long version, long optimiserSteps, ObjectNode extra) {}

    public static Path save(Path runDir, Path tokenizerDir, ModelConfig config, Weights weights, AdamW.State optimiser,
                            State state) throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        weights.tensors().forEach(t -> shapes.put(t.name(), t.shape()));
        return write(runDir, tokenizerDir, tmp -> ModelDir.save(tmp, config, weights), shapes, optimiser, state);
    }

    /**
     * Saves what {@code policy} trains: the full model, or under LoRA only the adapter in PEFT's format
     * ({@link AdapterFiles}) with {@code baseModel} as its {@code base_model_name_or_path} (the base is the run's model,
     * read again on resume), and the optimiser state of the trained arrays.
     */
    public static Path save(Path runDir, Path baseModel, TorchPolicy policy, AdamW.State optimiser, State state)
            throws IOException {
        if (policy.lora() == null) {
            return save(runDir, baseModel, policy.config(), policy.exportWeights(), optimiser, state);
        }
        Map<String, Tensor> adapter = policy.exportAdapter();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        adapter.values().forEach(t -> shapes.put(t.name(), t.shape()));
        AdapterFiles.Adapter a = new AdapterFiles.Adapter(policy.lora(), baseModel.toAbsolutePath().toString(), adapter);
        return write(runDir, baseModel, tmp -> AdapterFiles.write(tmp, a), shapes, optimiser, state);
    }

    /**
     * Puts {@code policy} and {@code adamW} back where checkpoint {@code dir} left them. A LoRA checkpoint needs a
     * LoRA policy of the same rank and targets, a full one a full policy: the message names the mismatch.
     */
    public static void restore(Path dir, TorchPolicy policy, AdamW adamW) {
        boolean adapter = AdapterFiles.isAdapter(dir);
        if (adapter != (policy.lora() != null)) {
            throw new IllegalArgumentException(dir + " holds " + (adapter ? "a LoRA adapter" : "a full model")
                    + " but the run trains " + (policy.lora() != null ? "LoRA adapters (lora.r = " + policy.lora().r()
                    + ")" : "every parameter (lora.r = 0)") + ": resume with the checkpoint's lora.* settings");
        }
        if (adapter) {
            AdapterFiles.Adapter a = AdapterFiles.read(dir, policy.config());
            if (a.config().r() != policy.lora().r() || !a.config().targets().equals(policy.lora().targets())) {
                throw new IllegalArgumentException(dir.resolve(AdapterFiles.CONFIG) + ": r = " + a.config().r()
                        + ", target_modules " + a.config().targets() + " differ from the run's lora.r = "
                        + policy.lora().r() + ", lora.target_modules " + policy.lora().targets());
            }
            policy.loadAdapter(a.tensors());
        } else {
            policy.loadWeights(ModelDir.load(dir).weights());
        }
        adamW.importState(readOptimiser(dir), policy.trainable());
    }

    /** Writes the model part of a checkpoint into a directory. */
    private interface ModelWriter {
        void write(Path dir) throws IOException;
    }

    private static Path write(Path runDir, Path tokenizerDir, ModelWriter model, Map<String, long[]> shapes,
                              AdamW.State optimiser, State state) throws IOException {
        Path root = runDir.resolve("checkpoints");
        Files.createDirectories(root);
        Path dir = root.resolve("step-" + state.step());
        Path tmp = root.resolve("step-" + state.step() + ".tmp");
        deleteTree(tmp);
        model.write(tmp);
        ModelDir.copyTokenizer(tokenizerDir, tmp);
        List<Tensor> moments = new ArrayList<>();
        Map<String, String> steps = new LinkedHashMap<>();
        optimiser.expAvg().forEach((name, m) -> {
            long[] shape = shapes.get(name);
            moments.add(Tensor.of("exp_avg." + name, shape, m));
            moments.add(Tensor.of("exp_avg_sq." + name, shape, optimiser.expAvgSq().get(name)));
            steps.put("step." + name, Long.toString(optimiser.steps().get(name)));
        });
        Safetensors.write(tmp.resolve(OPTIMIZER), moments, steps, Safetensors.DType.F32);
        ObjectNode s = JSON.createObjectNode();
        s.put("step", state.step()).put("version", state.version()).put("optimiser_steps", state.optimiserSteps());
        s.set("extra", state.extra() == null ? JSON.createObjectNode() : state.extra());
        Files.writeString(tmp.resolve(STATE), s.toPrettyString());
        deleteTree(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        return dir;
    }

    /** The newest complete checkpoint under {@code runDir}, or null. */
    public static Path latest(Path runDir) throws IOException {
        Path root = runDir.resolve("checkpoints");
        if (!Files.isDirectory(root)) return null;
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isRegularFile(p.resolve(STATE)))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(5))))
                    .orElse(null);
        }
    }

    public static State readState(Path dir) {
        try {
            JsonNode s = JSON.readTree(Files.readString(dir.resolve(STATE)));
            return new State(s.path("step").intValue(), s.path("version").longValue(), s.path("optimiser_steps").longValue(),
                    s.path("extra").isObject() ? (ObjectNode) s.path("extra") : JSON.createObjectNode());
        } catch (IOException e) {
            throw new ModelFormatException(dir.resolve(STATE) + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static AdamW.State readOptimiser(Path dir) {
        Path f = dir.resolve(OPTIMIZER);
        Map<String, Tensor> t = Safetensors.read(f);
        Map<String, String> meta;
        try {
            meta = Safetensors.metadata(java.nio.ByteBuffer.wrap(Files.readAllBytes(f)), f.toString());
        } catch (IOException e) {
            throw new ModelFormatException(f + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Long> steps = new LinkedHashMap<>();
        Map<String, float[]> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
        meta.forEach((k, val) -> {
            if (!k.startsWith("step.")) return;
            String name = k.substring(5);
            steps.put(name, Long.parseLong(val));
            Tensor a = t.get("exp_avg." + name), b = t.get("exp_avg_sq." + name);
            if (a == null || b == null) throw new ModelFormatException(f + ": moments of '" + name + "' are missing");
            m.put(name, a.toArray());
            v.put(name, b.toArray());
        });
        return new AdamW.State(steps, m, v);
    }

    /** Deletes a file or a directory with everything under it; nothing if it does not exist. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
