package dev.vaco.cli;

import dev.vaco.datasets.DatasetSpec;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.trainer.eval.EvalRun;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraMerge;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Weights;
import dev.vaco.model.Tokenizer;
import dev.vaco.chat.ChatTemplate;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.http.InferenceServer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a model (embedded server) or a running server (at a pinned policy version) on a dataset: "
                + "pass@k, maj@k, mean@k with 95%% bootstrap intervals, per-sample JSONL, summary JSON; resumable.")
final class EvalCommand implements Callable<Integer> {
    static final class Target {
        @Option(names = "--model", description = "Model directory: evaluated through an embedded server on loopback.")
        Path model;

        @Option(names = "--server", description = "URL of a running vaco server (e.g. http://127.0.0.1:8000).")
        URI server;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(names = "--api-key", defaultValue = "${env:VACO_API_KEY}",
            description = "API key of --server (its --api-key), sent as 'Authorization: Bearer KEY' (default: $VACO_API_KEY).")
    String apiKey;

    @Option(names = "--tokenizer", description = "Directory with tokenizer.json (with --server; default: none, required).")
    Path tokenizerDir;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A LoRA adapter (PEFT's files) applied to --model: the merged model is evaluated.")
    Path adapter;

    @Option(names = "--policy-version", description = "Pin this resident policy version (with --server).")
    Long policyVersion;

    @Option(names = "--dataset", defaultValue = "synthetic",
            description = "synthetic | FILE.jsonl | FILE.parquet | Hub id (e.g. openai/gsm8k). Default: ${DEFAULT-VALUE}.")
    String dataset;

    @Option(names = "--format", defaultValue = "auto", description = "gsm8k | math | auto (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--config", description = "Hub dataset config (default: main for gsm8k, else default).")
    String config;

    @Option(names = "--split", defaultValue = "test", description = "Hub dataset split (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--limit", defaultValue = "0", description = "Evaluate the first N problems (0 = all; synthetic: 500).")
    int limit;

    @Option(names = "--k", defaultValue = "1", description = "Samples per problem (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Completion tokens at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--prompt", defaultValue = "auto",
            description = "chat | plain | builtin | auto (builtin: the built-in task's prompt, the question and a newline, for "
                    + "problems written like it in a file; auto: chat when the tokenizer has a chat template and the dataset is not synthetic).")
    String prompt;

    @Option(names = "--few-shot", defaultValue = "0", description = "Worked examples before each question (plain prompts).")
    int fewShot;

    @Option(names = "--strict", description = "Only \\boxed{} answers count (the RL setting).")
    boolean strict;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling and bootstrap seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", description = "Output directory for samples.jsonl and summary.json (re-running resumes).")
    Path out;

    @Option(names = "--concurrency", defaultValue = "64", description = "Problems in flight (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Override
    public Integer call() throws Exception {
        EvalRun.Config cfg = new EvalRun.Config(k, temperature, topP, maxTokens, seed, policyVersion, concurrency, 1000);
        Path tokDir = target.model != null ? target.model : tokenizerDir;
        if (tokDir == null) throw new IllegalArgumentException("--tokenizer DIR is required with --server");
        if (target.model != null && policyVersion != null) throw new IllegalArgumentException("--policy-version needs --server");
        if (adapter != null && target.model == null) throw new IllegalArgumentException("--adapter needs --model (its base)");
        List<Problem> problems = DatasetSpec.load(dataset, format, config, split, limit, seed);
        try (Tokenizer tok = Tokenizer.load(tokDir)) {
            Path tc = tokDir.resolve(ModelDir.TOKENIZER_CONFIG);
            ChatTemplate template = Files.isRegularFile(tc) && Files.readString(tc).contains("\"chat_template\"")
                    ? ChatTemplate.fromTokenizerConfig(tc) : null;
            boolean chat = switch (prompt) {
                case "chat" -> true;
                case "plain", "builtin" -> false;
                case "auto" -> template != null && !dataset.equals("synthetic");
                default -> throw new IllegalArgumentException("--prompt must be chat, plain, builtin or auto, found '" + prompt + "'");
            };
            PromptStyle style = (chat ? PromptStyle.CHAT : dataset.equals("synthetic") || prompt.equals("builtin") ? PromptStyle.BUILT_IN
                    : PromptStyle.PLAIN).withFewShot(fewShot);
            List<Problem> shots = fewShot > 0 ? DatasetSpec.load("synthetic".equals(dataset) ? "synthetic" : dataset, format,
                    config, "train".equals(split) ? "test" : "train", 0, seed + 1) : List.of();
            Prompts prompts = new Prompts(tok, template, style, shots);
            List<Prompts.Prompt> built = new ArrayList<>();
            for (Problem p : problems) built.add(prompts.build(p));
            System.out.printf("vaco eval: %d problems from %s, k=%d, temperature %.2f, %s prompts%n", problems.size(), dataset, k,
                    temperature, chat ? "chat" : "plain");
            VerifierConfig vc = strict ? VerifierConfig.strictDefaults() : VerifierConfig.defaults();
            try (Verifier verifier = new Verifier(vc)) {
                EvalRun.Summary s;
                if (target.model != null) {
                    ModelDir.Loaded m = ModelDir.load(target.model);
                    try (Server server = Server.start(target.model, m.config(), weights(m), 0, new InferenceServer.Settings(
                            "127.0.0.1", 0, "eval", "eval-" + System.nanoTime(), 1L << 30), new EngineOptions(64, 256, 4,
                            dev.vaco.server.engine.PolicyOptions.DEFAULT, EngineOptions.DEFAULT_MAX_MODEL_LEN));
                         PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + server.port()), null)) {
                        s = new EvalRun(client, verifier, cfg).run(built, out, System.out);
                    }
                } else {
                    try (PolicyClient client = new PolicyClient(target.server, null, apiKey)) {
                        s = new EvalRun(client, verifier, cfg).run(built, out, System.out);
                    }
                }
                System.out.print(EvalRun.table(s));
                if (out != null) System.out.println("wrote " + out.resolve("samples.jsonl") + " and " + out.resolve("summary.json"));
            }
        }
        return 0;
    }

    /** The model's weights, with {@code --adapter} merged in ({@code W + scaling B A}) when given. */
    private Weights weights(ModelDir.Loaded m) {
        if (adapter == null) return m.weights();
        AdapterFiles.Adapter a = AdapterFiles.read(adapter, m.config());
        System.out.printf("vaco eval: adapter %s (r %d, %s) merged into %s%n", adapter, a.config().r(),
                a.config().targets(), target.model);
        return LoraMerge.merge(m.config(), m.weights(), a);
    }
}
