package dev.vaco.cli;

import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraMerge;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Weights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** PEFT's {@code merge_and_unload} as a command: base + adapter -> a full Hugging Face model directory. */
@Command(name = "merge-lora", mixinStandardHelpOptions = true,
        description = "Merge a LoRA adapter (PEFT's adapter_config.json + adapter_model.safetensors) into its base "
                + "model: every targeted weight becomes W + scaling * B A; writes a full Hugging Face model directory.")
final class MergeLoraCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The base model directory.")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The adapter directory (PEFT's format).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the merged model goes (new or empty).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(model)) throw new IllegalArgumentException("--model " + model + ": no such directory");
        if (!Files.isDirectory(adapter)) throw new IllegalArgumentException("--adapter " + adapter + ": no such directory");
        if (Files.isDirectory(out)) {
            try (var s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + ": not empty; merge into a new directory");
                }
            }
        } else if (Files.exists(out)) {
            throw new IllegalArgumentException("--out " + out + ": is a file, expected a directory");
        }
        ModelDir.Loaded base = ModelDir.load(model);
        AdapterFiles.Adapter a = AdapterFiles.read(adapter, base.config());
        Weights merged = LoraMerge.merge(base.config(), base.weights(), a);
        ModelDir.save(out, base.config(), merged);
        ModelDir.copyTokenizer(model, out);
        System.out.printf("merged %s (r %d, alpha %s, %s) into %s: %s%n", adapter, a.config().r(), a.config().alpha(),
                a.config().targets(), model, out);
        return 0;
    }
}
