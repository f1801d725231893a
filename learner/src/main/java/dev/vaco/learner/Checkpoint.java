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
import dev.vaco.learner.optim.AdamW;

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
 * data cursor, seeds, anything the loop adds).
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
        Path root = runDir.resolve("checkpoints");
        Files.createDirectories(root);
        Path dir = root.resolve("step-" + state.step());
        Path tmp = root.resolve("step-" + state.step() + ".tmp");
        deleteTree(tmp);
        ModelDir.save(tmp, config, weights);
        ModelDir.copyTokenizer(tokenizerDir, tmp);
        List<Tensor> moments = new ArrayList<>();
        Map<String, String> steps = new LinkedHashMap<>();
        optimiser.expAvg().forEach((name, m) -> {
            long[] shape = weights.get(name).shape();
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
