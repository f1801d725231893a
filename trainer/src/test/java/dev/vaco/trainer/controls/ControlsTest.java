package dev.vaco.trainer.controls;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.datasets.LevelMix;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.Telemetry;
import dev.vaco.learner.optim.OptimConfig;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.RolloutConfig;
import dev.vaco.trainer.config.SftConfig;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.DataCursor;
import dev.vaco.trainer.sft.WarmStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's controls on the tiny model: a real server on loopback, the real verifier and DJL learner. */
class ControlsTest {
    @TempDir Path dir;
    private final PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);

    private static Server server(Path model, ModelDir.Loaded m, dev.vaco.model.Weights w) {
        return Server.start(model, m.config(), w, 0, new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(64, 1024, 4, PolicyOptions.DEFAULT.withThreads(1)));
    }

    @Test
    void rejectionSamplingKeepsEveryDistinctVerifiedSampleAndNothingElse() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelInit.initTiny(model, 1);
        // four problems, learnt by heart at a high rate: sampled at temperature 1 the model is often right and
        // sometimes not, with several distinct texts per problem
        List<Problem> four = new ArrayList<>();
        var it = DataCursor.synthetic(2, LevelMix.of(6), 1).train();
        for (int i = 0; i < 4; i++) four.add(it.next());
        java.util.Iterator<Problem> cycle = java.util.stream.Stream.generate(() -> four).flatMap(List::stream).iterator();
        try (Tokenizer tok = Tokenizer.load(model); NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(m.config(), m.weights());
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults())) {
            Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
            WarmStart.run(policy, root, new SftConfig(60, 5e-3, 4, 2, -1, "", 0, 0), OptimConfig.defaults(), cycle, prompts, null);
            try (Server s = server(model, m, policy.exportWeights());
                 PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok")) {
                RolloutConfig rollout = new RolloutConfig(16, 16, 1.5, 24, 2, 0, 1);
                // a budget shorter than one round: exactly one round of 8 draws, i.e. the four problems twice
                RejectionSampling.Collected c = RejectionSampling.collect(client, client.versions().live(), verifier,
                        cycle, prompts, rollout, 0, 1e-3, 8, dir.resolve("rft"), quiet);
                assertThat(c.problems()).isEqualTo(4);
                assertThat(c.samples()).isEqualTo(4 * 16);
                // the oracle: every CORRECT row of the round's samples, distinct per problem
                ObjectMapper json = new ObjectMapper();
                Set<String> expected = new HashSet<>();
                int rows = 0, wrong = 0;
                for (String line : Files.readAllLines(dir.resolve("rft/round-0/samples.jsonl"))) {
                    JsonNode r = json.readTree(line);
                    rows++;
                    if (r.path("correct").asBoolean()) expected.add(r.path("problem_id").asText() + "\u0000" + r.path("text").asText());
                    else wrong++;
                }
                assertThat(rows).isEqualTo(c.samples());
                assertThat(expected).as("the model learnt its four problems: some samples must be right; the samples:\n%s",
                        Files.readString(dir.resolve("rft/round-0/samples.jsonl"))).isNotEmpty();
                assertThat(wrong).as("at temperature 1.5 some samples must be wrong, or nothing is rejected").isPositive();
                List<String> got = new ArrayList<>();
                for (Problem p : c.solutions()) {
                    got.add(p.id() + "\u0000" + p.solution());
                    assertThat(verifier.verifyGold(p.goldAnswer(), p.solution()).correct()).as(p.solution()).isTrue();
                    assertThat(p.question()).isEqualTo(four.stream().filter(f -> f.id().equals(p.id())).findFirst().orElseThrow().question());
                }
                assertThat(got).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
            }
        }
    }

    @Test
    void aSupervisedControlTrainsForItsBudgetAndIsEvaluatedAtEqualSharesOfIt() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelInit.initTiny(model, 1);
        TrainConfig cfg = ConfigLoader.load(List.of("sft.levels=6", "run.levels=7", "sft.batch_size=8", "sft.lr=1e-2"));
        try (Tokenizer tok = Tokenizer.load(model); NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(m.config(), m.weights());
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults());
             Server s = server(model, m, m.weights());
             PolicyClient client = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok");
             Telemetry telemetry = new Telemetry(dir.resolve("sft/metrics.jsonl"), null)) {
            Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
            List<Prompts.Prompt> heldOut = new ArrayList<>();
            for (Problem p : new DataCursor("synthetic", "", 20, 0, LevelMix.of(7), LevelMix.of(6, 7)).heldOut()) heldOut.add(prompts.build(p));
            HeldOutEval eval = new HeldOutEval(client, verifier, heldOut, 16);
            long start = eval.version();
            double budget = 2.0;
            SupervisedControl.Result r = SupervisedControl.train("sft", policy, root, cfg,
                    DataCursor.synthetic(5, cfg.sftMix(), 1).train(), prompts, 0, budget, 0.05, eval, 3, telemetry, quiet);
            assertThat(r.curve()).hasSize(4);
            assertThat(r.curve().get(0).minutes()).isZero();
            for (int i = 1; i < 4; i++) {
                // each evaluation comes once its share of the budget is trained, not before
                assertThat(r.curve().get(i).minutes() * 60).isGreaterThanOrEqualTo(budget * i / 3);
                assertThat(r.curve().get(i).step()).isGreaterThanOrEqualTo(r.curve().get(i - 1).step()); // a slow step may span two shares
            }
            assertThat(r.seconds()).isGreaterThanOrEqualTo(budget);
            assertThat(r.steps()).isEqualTo(r.last().step()).isPositive();
            assertThat(r.curve().get(3).byLevel()).containsOnlyKeys("6", "7");
            // every evaluation after the start is of newly pushed weights, at its own version
            List<Long> versions = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("sft/metrics.jsonl"))) versions.add(new ObjectMapper().readTree(line).path("version").asLong());
            assertThat(versions).containsExactly(start, start + 1, start + 2, start + 3);
            assertThat(client.versions().highest()).isEqualTo(start + 3);
        }
    }

    @Test
    void aWarmStartWithALossTargetStopsOnceItsSmoothedLossReachesIt() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelInit.initTiny(model, 1);
        try (Tokenizer tok = Tokenizer.load(model); NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(m.config(), m.weights())) {
            Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
            var data = DataCursor.synthetic(1, LevelMix.of(6), 1).train();
            // any loss is below 100: the target holds as soon as the mean has had its 20 steps
            WarmStart.Report r = WarmStart.run(policy, root, new SftConfig(60, 1e-3, 4, 2, -1, "", 100, 0), OptimConfig.defaults(),
                    data, prompts, null);
            assertThat(r.steps()).isEqualTo(21);
            // unreachable: the step count ends it
            WarmStart.Report all = WarmStart.run(policy, root, new SftConfig(25, 1e-3, 4, 2, -1, "", 1e-9, 0), OptimConfig.defaults(),
                    data, prompts, null);
            assertThat(all.steps()).isEqualTo(25);
        }
    }
}
