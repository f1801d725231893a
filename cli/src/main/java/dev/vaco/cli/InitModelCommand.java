package dev.vaco.cli;

import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "init-model", mixinStandardHelpOptions = true,
        description = "Write the built-in tiny Llama model (seeded random weights, math tokenizer) to DIR in Hugging Face's layout.")
final class InitModelCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Directory to create (must not hold a model already).")
    Path dir;

    @Option(names = "--seed", defaultValue = "0", description = "Initialisation seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--size", defaultValue = "tiny", description = "tiny (1.6M parameters) or 25m (benchmark size).")
    String size;

    @Option(names = "--force", description = "Overwrite an existing model in DIR.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(dir.resolve(ModelDir.CONFIG)) && !force) {
            throw new IllegalArgumentException(dir + " already holds a model (config.json); pass --force to overwrite");
        }
        var config = switch (size) {
            case "tiny" -> ModelInit.tinyConfig();
            case "25m" -> ModelInit.benchConfig25m();
            default -> throw new IllegalArgumentException("--size must be tiny or 25m, found '" + size + "'");
        };
        var m = ModelInit.init(dir, config, seed);
        System.out.printf("wrote %s: %s, %,d parameters (%d layers, hidden %d, heads %d/%d, vocab %d, context %d)%n",
                dir, config.modelType(), m.weights().parameterCount(), config.numHiddenLayers(), config.hiddenSize(),
                config.numAttentionHeads(), config.numKeyValueHeads(), config.vocabSize(), config.maxPositionEmbeddings());
        return 0;
    }
}
