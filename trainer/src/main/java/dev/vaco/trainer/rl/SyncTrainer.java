package dev.vaco.trainer.rl;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.datasets.DatasetSpec;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.datasets.SyntheticMath;
import dev.vaco.datasets.eval.EvalRun;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.chat.ChatTemplate;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.model.Engines;
import dev.vaco.trainer.model.TorchPolicy;
import dev.vaco.trainer.objective.Objective;
import dev.vaco.trainer.optim.Optimiser;
import dev.vaco.trainer.sft.WarmStart;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The synchronous RL loop: generate (G samples for each of B prompts, on the inference server over HTTP), score (the
 * verifier, in process, strict: only a boxed answer counts), update (one {@link Learner} iteration), push the new
 * weights, repeat. Every rollout is sampled by the version the learner holds, so every token's lag is 0; the
 * asynchronous pipeline relaxes exactly that.
 *
 * <p>Files under {@code run.out_dir}: {@code config.json} (resolved), {@code metrics.jsonl}, {@code checkpoints/step-N/},
 * {@code final-model/} (a Hugging Face model directory).
 */
public final class SyncTrainer {
    /** Held-out greedy accuracy before RL (after the warm start) and after. */
    public record Result(double accuracyBefore, double accuracyAfter, int steps, double seconds, Path runDir, Path finalModel) {}

    private final TrainConfig cfg;
    private final Path modelDir;
    private final PolicyClient client;
    private final PrintStream out;

    /**
     * @param modelDir the model to start from (config, weights, tokenizer); for {@code run.model = builtin} the caller
     *                 has written the tiny model there
     * @param client   the inference server the loop samples from and pushes weights to
     */
    public SyncTrainer(TrainConfig cfg, Path modelDir, PolicyClient client, PrintStream out) {
        this.cfg = cfg;
        this.modelDir = modelDir;
        this.client = client;
        this.out = out;
    }

    public Result run(boolean resume) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Path runDir = Path.of(cfg.run().outDir());
        Files.createDirectories(runDir);
        ConfigLoader.writeResolved(cfg, runDir.resolve("config.json"));
        ModelDir.Loaded model = ModelDir.load(modelDir);
        try (Tokenizer tok = Tokenizer.load(modelDir);
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults());
             NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(model.config(), model.weights());
             Optimiser optimiser = Optimiser.from(root, cfg.optim(), cfg.run().steps());
             Telemetry telemetry = new Telemetry(runDir.resolve("metrics.jsonl"), out)) {
            Prompts prompts = prompts(tok);
            DataCursor data = new DataCursor(cfg.run().dataset(), cfg.run().seed());
            List<Prompts.Prompt> heldOut = new ArrayList<>();
            for (Problem p : data.heldOut(cfg.run().evalProblems())) heldOut.add(prompts.build(p));

            int step = 0;
            Path ckpt = resume ? Checkpoint.latest(runDir) : null;
            if (resume && ckpt == null) out.println("--resume: no checkpoint in " + runDir + ", starting fresh");
            if (ckpt != null) {
                Checkpoint.State s = Checkpoint.readState(ckpt);
                policy.loadWeights(ModelDir.load(ckpt).weights());
                optimiser.adamW().importState(Checkpoint.readOptimiser(ckpt), policy.parameters());
                optimiser.restoreAppliedSteps(s.optimiserSteps());
                data.skip(s.extra().path("data_cursor").asLong());
                step = s.step();
                out.printf("resumed from %s: step %d, version %d, %d problems consumed%n", ckpt, step, s.version(), data.consumed());
            } else {
                WarmStart.Report sft = WarmStart.run(policy, root, cfg.sft(), cfg.optim(), data.train(), prompts, out::println);
                if (sft.steps() > 0) out.printf("warm start: %d steps, loss %.4f, %.0f s%n", sft.steps(), sft.finalLoss(), sft.seconds());
            }
            long version = Math.max(client.liveVersion(), ckpt == null ? 0 : Checkpoint.readState(ckpt).version()) + 1;
            client.pushWeights(policy.exportWeights(), version);
            if (ckpt == null) save(runDir, model, policy, optimiser, step, version, data);

            Learner learner = new Learner(policy, Objective.create(cfg.objective()), optimiser, cfg, root);
            double before = evaluate(heldOut, verifier, version, step, telemetry);
            double after = before;
            for (; step < cfg.run().steps(); ) {
                long s0 = System.nanoTime();
                List<Rollout> rollouts = generate(data, prompts, verifier, version, step);
                Map<String, Double> m = learner.step(rollouts, version);
                version++;
                m.put("sync/push_s", client.pushWeights(policy.exportWeights(), version));
                step++;
                telemetry.step(step, version, (System.nanoTime() - s0) / 1e9, m);
                boolean last = step == cfg.run().steps();
                if (last || (cfg.run().evalEvery() > 0 && step % cfg.run().evalEvery() == 0)) {
                    after = evaluate(heldOut, verifier, version, step, telemetry);
                }
                if (last || (cfg.run().checkpointEvery() > 0 && step % cfg.run().checkpointEvery() == 0)) {
                    save(runDir, model, policy, optimiser, step, version, data);
                }
            }
            Path finalModel = runDir.resolve("final-model");
            Checkpoint.deleteTree(finalModel);
            ModelDir.save(finalModel, model.config(), policy.exportWeights());
            ModelDir.copyTokenizer(modelDir, finalModel);
            return new Result(before, after, step, (System.nanoTime() - t0) / 1e9, runDir, finalModel);
        }
    }

    private Prompts prompts(Tokenizer tok) {
        if (cfg.run().dataset().equals("synthetic")) return new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
        Path tc = modelDir.resolve(ModelDir.TOKENIZER_CONFIG);
        ChatTemplate t = Files.isRegularFile(tc) ? ChatTemplate.fromTokenizerConfig(tc) : null;
        return new Prompts(tok, t, t != null ? PromptStyle.CHAT : new PromptStyle(false, "Question: {question}\nAnswer:", null, null, 0), List.of());
    }

    /** G samples for each of B prompts, all requests in flight at once; rewards from the strict verifier. */
    private List<Rollout> generate(DataCursor data, Prompts prompts, Verifier verifier, long version, int step) {
        var rc = cfg.rollout();
        List<Problem> problems = new ArrayList<>();
        List<CompletableFuture<PolicyClient.GenerateResponse>> fs = new ArrayList<>();
        for (int i = 0; i < rc.promptsPerStep(); i++) {
            Problem p = data.train().next();
            problems.add(p);
            long seed = cfg.run().seed() * 1_000_003L + (long) step * 10_007L + i;
            fs.add(client.generate(new PolicyClient.GenerateRequest(prompts.build(p).ids(), rc.groupSize(), rc.temperature(),
                    1.0, 0, rc.maxTokens(), List.of(), seed, version, false)));
        }
        List<Rollout> rollouts = new ArrayList<>();
        for (int i = 0; i < fs.size(); i++) {
            PolicyClient.GenerateResponse r = fs.get(i).join();
            Problem p = problems.get(i);
            for (PolicyClient.Completion c : r.samples()) {
                Verdict v = verifier.verifyGold(p.goldAnswer(), c.text());
                rollouts.add(new Rollout(p, step * rc.promptsPerStep() + i, r.promptTokenIds(), c.tokenIds(), c.logprobs(),
                        c.policyVersions(), (float) v.reward(), v.status().name(), c.finishReason()));
            }
        }
        return rollouts;
    }

    private double evaluate(List<Prompts.Prompt> heldOut, Verifier verifier, long version, int step, Telemetry t)
            throws IOException, InterruptedException {
        EvalRun.Config ec = new EvalRun.Config(1, 0, 1, cfg.rollout().maxTokens(), cfg.run().seed(), version, 64, 200);
        EvalRun.Summary s = new EvalRun(client, verifier, ec).run(heldOut, null, null);
        var mean = s.scores().get(2).value();
        t.eval(step, version, mean.estimate(), mean.lower(), mean.upper(), s.seconds());
        return mean.estimate();
    }

    private void save(Path runDir, ModelDir.Loaded model, TorchPolicy policy, Optimiser opt, int step, long version,
                      DataCursor data) throws IOException {
        ObjectNode extra = JsonNodeFactory.instance.objectNode().put("data_cursor", data.consumed());
        Checkpoint.save(runDir, modelDir, model.config(), policy.exportWeights(), opt.adamW().exportState(),
                new Checkpoint.State(step, version, opt.appliedSteps(), extra));
    }

    /**
     * The training stream with a position: a resumed run re-creates the seeded stream and skips what was consumed, so
     * it sees exactly the problems the uninterrupted run would have.
     */
    static final class DataCursor {
        private final String dataset;
        private final long seed;
        private final Iterator<Problem> it;
        private long consumed;

        DataCursor(String dataset, long seed) {
            this.dataset = dataset;
            this.seed = seed;
            if (dataset.equals("synthetic")) {
                it = SyntheticMath.stream(seed);
            } else {
                List<Problem> train = DatasetSpec.load(dataset, "auto", null, "train", 0, seed);
                it = new Iterator<>() {
                    int i;
                    List<Problem> order = dev.vaco.datasets.Datasets.shuffle(train, seed);

                    public boolean hasNext() { return true; }

                    public Problem next() {
                        if (i == order.size()) { order = dev.vaco.datasets.Datasets.shuffle(train, seed + i); i = 0; }
                        return order.get(i++);
                    }
                };
            }
        }

        Iterator<Problem> train() {
            return new Iterator<>() {
                public boolean hasNext() { return true; }

                public Problem next() {
                    consumed++;
                    return it.next();
                }
            };
        }

        List<Problem> heldOut(int n) {
            return dataset.equals("synthetic") ? SyntheticMath.testSet(n, seed ^ 0x5EEDL)
                    : DatasetSpec.load(dataset, "auto", null, "test", n, seed);
        }

        void skip(long n) {
            for (long i = 0; i < n; i++) { it.next(); consumed++; }
        }

        long consumed() {
            return consumed;
        }
    }
}
