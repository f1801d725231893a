package dev.vaco.cli;

import dev.vaco.model.ModelDir;
import dev.vaco.model.Tokenizer;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.batch.Generation;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.batch.GenerationEngine;
import dev.vaco.server.batch.GenerationRequest;
import dev.vaco.server.batch.Sample;
import dev.vaco.server.sampling.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Complete one prompt with a model directory through ONNX Runtime (greedy unless --temperature > 0).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model directory.")
    Path model;

    @Option(names = "--prompt", required = true, description = "Prompt text (tokenised as is).")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "64", description = "Completion tokens at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        var m = ModelDir.load(model);
        try (Tokenizer tok = Tokenizer.load(model);
             GenerationEngine engine = new GenerationEngine(m.config(), m.weights(), 0, tok, new ServerMetrics(),
                     new EngineOptions(1, 1, 1, dev.vaco.server.engine.PolicyOptions.DEFAULT,
                             EngineOptions.DEFAULT_MAX_MODEL_LEN))) {
            int[] ids = tok.encode(prompt);
            int left = engine.contextLength() - ids.length;
            if (left < 1) throw new IllegalArgumentException("--prompt has " + ids.length + " tokens; the context is " + engine.contextLength());
            SamplingParams sp = new SamplingParams(1, temperature, 1, 0, Math.min(maxTokens, left), List.of(), List.of(), seed, 0, false);
            long t0 = System.nanoTime();
            Generation g = engine.submit(new GenerationRequest(ids, sp, null), null).get();
            double s = (System.nanoTime() - t0) / 1e9;
            Sample out = g.samples().get(0);
            System.out.printf("model %s: %,d parameters%n", model, m.weights().parameterCount());
            System.out.println(prompt + out.text());
            System.out.printf("[%d prompt + %d completion tokens, %s, %.1f tokens/s]%n", ids.length, out.tokenIds().length,
                    out.finishReason(), out.tokenIds().length / s);
        }
        return 0;
    }
}
