package dev.vaco.cli;

import dev.vaco.model.ModelDir;
import dev.vaco.model.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Load a model directory, validate every file, and print its configuration and parameter count.")
final class InfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "A Hugging Face model directory.")
    Path dir;

    @Override
    public Integer call() {
        var m = ModelDir.load(dir);
        var c = m.config();
        System.out.printf("%s: %s, %,d parameters%n", dir, c.modelType(), m.weights().parameterCount());
        var rs = c.ropeScaling();
        String scaling = rs.type().equals("default") ? "" : String.format(" (%s scaling x%s)", rs.type(), rs.factor());
        System.out.printf("  layers %d, hidden %d, mlp %d, heads %d (kv %d, dim %d), vocab %d, context %d, rope theta %.0f%s, tied %s%n",
                c.numHiddenLayers(), c.hiddenSize(), c.intermediateSize(), c.numAttentionHeads(), c.numKeyValueHeads(),
                c.headDim(), c.vocabSize(), c.maxPositionEmbeddings(), c.ropeTheta(), scaling, c.tieWordEmbeddings());
        try (Tokenizer t = Tokenizer.load(dir)) {
            System.out.printf("  tokenizer: %d ids, eos %s (%d)%n", t.vocabSize(), t.eosToken(), t.eosId());
        }
        return 0;
    }
}
