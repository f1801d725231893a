package dev.vaco.trainer.pipeline;

import dev.vaco.trainer.StopRequest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Safetensors;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.learner.Checkpoint;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The RL pipeline on the tiny model: real servers on loopback, real verifier, real DJL learner. */
class RlTrainerTest {
    @TempDir Path dir;
    Path model;
    ModelDir.Loaded loaded;

    @BeforeEach
    void init() throws Exception {
        model = dir.resolve("model");
        loaded = ModelInit.initTiny(model, 1);
    }

    private Server server(int keep) {
        return Server.start(model, loaded.config(), loaded.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(32, 256, keep, PolicyOptions.DEFAULT.withThreads(1)));
    }

    private static PolicyClient client(Server s) {
        return new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok");
    }

    private static List<String> overrides(Path run, int steps, String... more) {
        List<String> o = new ArrayList<>(List.of("run.out_dir=" + run, "run.steps=" + steps, "run.eval_every=0",
                "run.checkpoint_every=1", "run.eval_problems=8", "sft.steps=3", "sft.warmup_steps=1", "sft.batch_size=4",
                "rollout.prompts_per_step=2", "rollout.group_size=4", "rollout.max_tokens=12", "optim.warmup_steps=0",
                "optim.lr=1e-3", "pipeline.canary_prompts=2"));
        o.addAll(List.of(more));
        return o;
    }

    private static RlTrainer.Result train(List<String> overrides, List<PolicyClient> clients, boolean resume) throws Exception {
        TrainConfig cfg = ConfigLoader.load(overrides);
        return new RlTrainer(cfg, Path.of(overrides.get(0).substring("run.out_dir=".length())).resolveSibling("model"), clients,
                new PrintStream(new ByteArrayOutputStream(), true)).run(resume);
    }

    /** The step records of a run's metrics.jsonl. */
    static List<JsonNode> steps(Path run) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode j = json.readTree(l);
            if (j.has("reward/mean")) out.add(j);
        }
        return out;
    }

    @Test
    void synchronousLoopTrainsPushesWritesTelemetryAndResumes() throws Exception {
        Path run = dir.resolve("run");
        try (Server s = server(3); PolicyClient c = client(s)) {
            RlTrainer.Result r = train(overrides(run, 2, "rollout.max_staleness=0"), List.of(c), false);
            assertThat(r.steps()).isEqualTo(2);
            assertThat(s.engine().liveVersion()).isEqualTo(3); // version 1 = the warm start, then one per step
            List<JsonNode> steps = steps(run);
            assertThat(steps).hasSize(2);
            long image = Safetensors.imageSize(loaded.weights().tensors(), Map.of("format", "pt"), Safetensors.DType.F32);
            for (JsonNode j : steps) {
                assertThat(j.path("train/responses").asDouble()).isEqualTo(8);
                assertThat(j.path("sync/bytes_sent").asLong()).isEqualTo(image); // one server: one image, the plain PUT
                assertThat(j.path("sync/relay_s").asDouble()).isPositive();
                assertThat(j.path("lag/max").asDouble()).isZero(); // eta = 0: every token sampled by the learner's version
                // the server's behaviour log-probs and the learner's recomputation agree (same weights, two engines)
                assertThat(j.path("mismatch/kl_k3").asDouble()).isCloseTo(0, within(1e-6));
                assertThat(j.path("sync/canary_max_abs").asDouble()).isLessThan(1e-4);
                assertThat(j.has("sync/rolled_back")).isFalse();
            }
            assertThat(ModelDir.load(r.finalModel()).config()).isEqualTo(loaded.config());
            assertThat(Files.readString(run.resolve("report.json"))).contains("\"dropped\" : 0");

            RlTrainer.Result r2 = train(overrides(run, 3, "rollout.max_staleness=0"), List.of(c), true);
            assertThat(r2.steps()).isEqualTo(3);
            assertThat(steps(run)).hasSize(3);
            assertThat(Checkpoint.readState(Checkpoint.latest(run)).step()).isEqualTo(3);
            assertThat(Ledger.trainedCounts(run.resolve("ledger.jsonl")).values()).containsOnly(1);
        }
    }

    /**
     * {@code objective.kl_coef > 0} once passed validation and then failed at the first minibatch (no reference pass).
     * The reference is the policy RL started from: the first step's KL to it is exactly 0 (same weights, same engine),
     * it grows once the policy has moved, and a resumed run reads the same reference back from the step-0 checkpoint.
     */
    @Test
    void klToTheStartingPolicyTrainsAndResumes() throws Exception {
        Path run = dir.resolve("kl");
        try (Server s = server(4); PolicyClient c = client(s)) {
            String[] kl = {"rollout.max_staleness=0", "objective.name=grpo", "objective.kl_coef=0.04"};
            assertThat(train(overrides(run, 2, kl), List.of(c), false).steps()).isEqualTo(2);
            assertThat(train(overrides(run, 3, kl), List.of(c), true).steps()).isEqualTo(3);
            List<JsonNode> steps = steps(run);
            assertThat(steps).hasSize(3);
            assertThat(steps.get(0).path("kl/ref").asDouble(Double.NaN)).isZero();
            for (int i = 1; i < steps.size(); i++) {
                double k = steps.get(i).path("kl/ref").asDouble(Double.NaN);
                assertThat(k).as("kl/ref at step %d", i + 1).isFinite().isGreaterThanOrEqualTo(0);
                if (steps.get(i - 1).path("policy/consecutive_kl").asDouble() > 0) {
                    assertThat(k).as("the policy moved at step %d, so its KL to the start is positive", i).isPositive();
                }
            }
            assertThat(Ledger.trainedCounts(run.resolve("ledger.jsonl")).values()).containsOnly(1);
        }
    }

    @Test
    void withEtaTwoNoTrainedTokenLagsMoreThanTwo() throws Exception {
        Path run = dir.resolve("eta2");
        try (Server s = server(6); PolicyClient c = client(s)) {
            train(overrides(run, 6, "rollout.max_staleness=2"), List.of(c), false);
            List<JsonNode> steps = steps(run);
            assertThat(steps).hasSize(6);
            double maxLag = 0;
            for (JsonNode j : steps) maxLag = Math.max(maxLag, j.path("lag/max").asDouble());
            assertThat(maxLag).isLessThanOrEqualTo(2);
            assertThat(maxLag).as("asynchronous: some tokens were sampled by older versions").isGreaterThan(0);
            Map<Long, Integer> counts = Ledger.trainedCounts(run.resolve("ledger.jsonl"));
            assertThat(counts).hasSize(12);
            assertThat(counts.values()).containsOnly(1);
        }
    }

    @Test
    void aSlowGroupIsNotOvertakenPastTheStalenessBound() throws Exception {
        Path run = dir.resolve("slow");
        AtomicBoolean first = new AtomicBoolean(true);
        // the first rollout request (n = group size 4; evaluation and canaries ask for 1) is answered only once the
        // server holds the weights of learner step 2 (version 3), so a "first ready" learner trains it at step 3 or
        // later, lag >= 2; a learner that waits for it is released after 15 s
        try (Server s = server(6);
             DelayingProxy proxy = new DelayingProxy(s.port(),
                     (path, body) -> path.endsWith("/generate") && body.contains("\"n\":4") && first.getAndSet(false),
                     () -> s.engine().liveVersion() >= 3, 15_000);
             PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + proxy.port()), "tok")) {
            train(overrides(run, 6, "rollout.max_staleness=1"), List.of(c), false);
            assertThat(proxy.delayed()).isEqualTo(1);
            List<JsonNode> steps = steps(run);
            assertThat(steps).hasSize(6);
            for (JsonNode j : steps) assertThat(j.path("lag/max").asDouble()).as("step %s", j.path("step")).isLessThanOrEqualTo(1);

            // independently, from the files: a group trained at step S was trained by the learner's version before
            // S (metrics' version after S, minus one); its lag is that minus each token's behaviour version
            Map<Integer, Long> learnerVersion = new java.util.HashMap<>();
            for (JsonNode j : steps) learnerVersion.put(j.path("step").asInt(), j.path("version").asLong() - 1);
            ObjectMapper json = new ObjectMapper();
            Map<Long, long[]> versions = new java.util.HashMap<>();
            Map<Long, Integer> trainedAt = new java.util.HashMap<>();
            for (String l : Files.readAllLines(run.resolve("ledger.jsonl"))) {
                JsonNode o = json.readTree(l);
                long g = o.path("g").asLong();
                switch (o.path("e").asText()) {
                    case "scored" -> versions.put(g, o.findValues("versions").stream().flatMap(v -> {
                        List<Long> vs = new ArrayList<>();
                        v.forEach(x -> vs.add(x.asLong()));
                        return vs.stream();
                    }).mapToLong(Long::longValue).toArray());
                    case "trained" -> assertThat(trainedAt.put(g, o.path("step").asInt())).as("group %d trained twice", g).isNull();
                    default -> { }
                }
            }
            assertThat(trainedAt).hasSize(12);
            long maxLag = 0;
            for (var e : trainedAt.entrySet()) {
                for (long v : versions.get(e.getKey())) maxLag = Math.max(maxLag, learnerVersion.get(e.getValue()) - v);
            }
            assertThat(maxLag).as("no trained token lags more than eta = 1").isLessThanOrEqualTo(1);
        }
    }

    @Test
    void injectedLagIsExactAndDeterministic() throws Exception {
        List<List<JsonNode>> runs = new ArrayList<>();
        for (String name : List.of("lagA", "lagB")) {
            Path run = dir.resolve(name);
            try (Server s = server(6); PolicyClient c = client(s)) {
                train(overrides(run, 5, "rollout.max_staleness=2", "rollout.lag=2"), List.of(c), false);
            }
            runs.add(steps(run));
        }
        List<JsonNode> a = runs.get(0), b = runs.get(1);
        for (int i = 0; i < a.size(); i++) {
            JsonNode j = a.get(i);
            int batchIndex = i; // step i+1 trains batch i, sampled by version base + max(0, i - 2)
            double expected = Math.min(batchIndex, 2);
            assertThat(j.path("lag/p50").asDouble()).as("step %d", i + 1).isEqualTo(expected);
            assertThat(j.path("lag/max").asDouble()).as("step %d", i + 1).isEqualTo(expected);
            // the lag histogram: every trained token in the bin of its exact lag, no other bin
            assertThat(j.path("lag/tokens_" + (int) expected).asDouble()).isEqualTo(j.path("train/tokens").asDouble()).isPositive();
            String bin = "lag/tokens_" + (int) expected;
            j.fieldNames().forEachRemaining(k -> assertThat(!k.startsWith("lag/tokens_") || k.equals(bin)).as(k).isTrue());
            for (String k : List.of("reward/mean", "response/length_mean", "loss/mean", "train/tokens")) {
                assertThat(b.get(i).path(k).asDouble()).as("%s at step %d", k, i + 1).isEqualTo(j.path(k).asDouble());
            }
        }
    }

    @Test
    void aCorruptPushIsCaughtByTheCanariesAndRolledBack() throws Exception {
        Path run = dir.resolve("canary");
        try (Server s = server(4); PolicyClient c = client(s)) {
            train(overrides(run, 3, "rollout.max_staleness=0", "pipeline.corrupt_push_at=2"), List.of(c), false);
            List<JsonNode> steps = steps(run);
            assertThat(steps.get(1).path("sync/rolled_back").asDouble()).isEqualTo(1);
            assertThat(steps.get(1).path("sync/canary_max_abs").asDouble()).isGreaterThan(1e-3);
            assertThat(steps.get(0).has("sync/rolled_back")).isFalse();
            assertThat(steps.get(2).has("sync/rolled_back")).isFalse();
            // staged, checked, dropped: the corrupt version never went live, so the server had nothing to roll back
            assertThat(s.metrics().weightRollbacks.sum()).isZero();
            assertThat(s.metrics().weightDrops.sum()).isEqualTo(1);
            List<Long> dropped = new ArrayList<>();
            for (String l : Files.readAllLines(run.resolve("ledger.jsonl"))) {
                JsonNode j = new ObjectMapper().readTree(l);
                if (j.path("e").asText().equals("dropped")) dropped.add(j.path("v").asLong());
            }
            assertThat(dropped).hasSize(1);
            long corrupt = dropped.get(0);
            assertThat(s.engine().droppedVersions()).contains(corrupt);
            assertThat(s.metrics().render()).doesNotContain("version=\"" + corrupt + "\"");
            // no token of any trained group was sampled by it; the version after it did sample and was trained on
            List<Long> trainedVersions = new ArrayList<>();
            for (Ledger.Entry e : Ledger.replay(run.resolve("ledger.jsonl")).values()) {
                if (e.trainedAtStep() == null) continue;
                for (var r : e.scored()) for (long v : r.versions()) trainedVersions.add(v);
            }
            assertThat(trainedVersions).isNotEmpty().doesNotContain(corrupt).contains(corrupt + 1);
        }
    }

    @Test
    void aServerKilledMidRunCostsNoGroups() throws Exception {
        Path run = dir.resolve("failover");
        Server a = server(4);
        try (Server b = server(4); PolicyClient ca = client(a); PolicyClient cb = client(b)) {
            Thread killer = new Thread(() -> {
                try {
                    while (a.metrics().generatedTokens.sum() < 200) Thread.sleep(20);
                    a.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            killer.start();
            train(overrides(run, 6, "rollout.max_staleness=1", "rollout.prompts_per_step=4"), List.of(ca, cb), false);
            killer.join();
            Map<Long, Integer> counts = Ledger.trainedCounts(run.resolve("ledger.jsonl"));
            assertThat(counts).hasSize(24);
            assertThat(counts.values()).containsOnly(1);
            assertThat(steps(run).get(5).path("pipeline/healthy_servers").asDouble()).isEqualTo(1);
        } finally {
            a.close();
        }
    }

    @Test
    void aStopRequestEndsTheRunAtAStepBoundaryWithACheckpointThatResumeContinues() throws Exception {
        Path run = dir.resolve("stop");
        try (Server s = server(5); PolicyClient c = client(s)) {
            // during the warm start: it returns after its current step, nothing is checkpointed
            StopRequest.request();
            RlTrainer.Result early;
            try {
                early = train(overrides(run, 6, "rollout.max_staleness=1"), List.of(c), false);
            } finally {
                StopRequest.clear();
            }
            assertThat(early.stopped()).isTrue();
            assertThat(early.steps()).isZero();
            assertThat(RlTrainer.holdsRun(run)).as("a run stopped in its warm start leaves nothing to resume").isFalse();

            // during RL: requested from outside (as the signal handler does) once two steps are in metrics.jsonl
            Thread signal = new Thread(() -> {
                try {
                    while (!Files.exists(run.resolve("metrics.jsonl")) || steps(run).size() < 2) Thread.sleep(10);
                    StopRequest.request();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            signal.start();
            RlTrainer.Result stopped;
            try {
                stopped = train(overrides(run, 6, "rollout.max_staleness=1", "run.checkpoint_every=0"), List.of(c), false);
            } finally {
                signal.join();
                StopRequest.clear();
            }
            assertThat(stopped.stopped()).isTrue();
            assertThat(stopped.steps()).isBetween(2, 5).isEqualTo(steps(run).size());
            assertThat(stopped.finalModel()).isNull();
            // checkpoint_every=0: the only RL checkpoint is the one the stop wrote, at the step it ended on
            assertThat(Checkpoint.readState(Checkpoint.latest(run)).step()).isEqualTo(stopped.steps());
            assertThat(Files.exists(run.resolve("report.json"))).isFalse();

            // starting afresh in the same directory would overwrite it: refused, nothing touched
            long ledgerBytes = Files.size(run.resolve("ledger.jsonl"));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> train(overrides(run, 6), List.of(c), false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("run.out_dir " + run).hasMessageContaining("--resume");
            assertThat(Files.size(run.resolve("ledger.jsonl"))).isEqualTo(ledgerBytes);

            RlTrainer.Result rest = train(overrides(run, 6, "rollout.max_staleness=1", "run.checkpoint_every=0"), List.of(c), true);
            assertThat(rest.stopped()).isFalse();
            assertThat(rest.steps()).isEqualTo(6);
            Map<Long, Integer> counts = Ledger.trainedCounts(run.resolve("ledger.jsonl"));
            assertThat(counts).hasSize(12);
            assertThat(counts.values()).as("every admitted group trained exactly once across the stop").containsOnly(1);
        }
    }
}
