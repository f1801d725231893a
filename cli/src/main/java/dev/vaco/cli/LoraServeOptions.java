package dev.vaco.cli;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelFormatException;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.server.batch.LoraAdapters;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code vaco serve}'s LoRA flags, vLLM's: {@code --enable-lora} gives the sessions adapter inputs of rank
 * {@code --max-lora-rank} (so adapter pushes and named adapters need no new session), {@code --lora-modules NAME=DIR}
 * serves PEFT adapter directories that requests pick by {@code model} (and implies {@code --enable-lora}).
 */
final class LoraServeOptions {
    @Option(names = "--enable-lora", description = "Adapter inputs in the served graph: LoRA adapters (pushed with "
            + "format=peft-lora, or --lora-modules) apply without a new session.")
    boolean enable;

    @Option(names = "--max-lora-rank", defaultValue = "16", paramLabel = "R",
            description = "Largest adapter rank served (default: ${DEFAULT-VALUE}, vLLM's); smaller ranks are zero-padded.")
    int maxRank;

    @Option(names = "--lora-modules", arity = "1..*", paramLabel = "NAME=DIR",
            description = "Named LoRA adapters (PEFT directories) served next to the base; implies --enable-lora.")
    List<String> modules = List.of();

    /** The rank of the sessions' adapter inputs: 0 without LoRA. */
    int rank() {
        if (maxRank < 1) throw new IllegalArgumentException("--max-lora-rank: expected an integer >= 1, found " + maxRank);
        return enable || !modules.isEmpty() ? maxRank : 0;
    }

    /**
     * Reads and checks every {@code --lora-modules} adapter against the model before anything starts.
     *
     * @throws IllegalArgumentException naming the flag and the entry or file (exit 2)
     */
    Map<String, AdapterFiles.Adapter> adapters(ModelConfig model) {
        Map<String, AdapterFiles.Adapter> out = new LinkedHashMap<>();
        for (String m : modules) {
            int eq = m.indexOf('=');
            if (eq <= 0 || eq == m.length() - 1) {
                throw new IllegalArgumentException("--lora-modules: expected NAME=DIR, found '" + m + "'");
            }
            String name = m.substring(0, eq);
            Path dir = Path.of(m.substring(eq + 1));
            if (out.containsKey(name)) throw new IllegalArgumentException("--lora-modules: the name '" + name + "' is given twice");
            if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--lora-modules " + name + "=" + dir + ": no such directory");
            AdapterFiles.Adapter a;
            try {
                a = AdapterFiles.read(dir, model);
            } catch (ModelFormatException e) {
                throw new IllegalArgumentException("--lora-modules " + name + ": " + e.getMessage(), e);
            }
            if (a.config().r() > rank()) {
                throw new IllegalArgumentException("--lora-modules " + name + "=" + dir + ": rank " + a.config().r()
                        + " exceeds --max-lora-rank " + rank());
            }
            out.put(name, a);
        }
        return out;
    }

    /** Serves the checked adapters. */
    static void serve(LoraAdapters lora, Map<String, AdapterFiles.Adapter> adapters) {
        adapters.forEach((name, a) -> lora.load(name, a.config(), a.tensors()));
    }
}
