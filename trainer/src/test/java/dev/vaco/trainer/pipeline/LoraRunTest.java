package dev.vaco.trainer.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vaco.datasets.LevelMix;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.Checkpoint;
import dev.vaco.learner.Rollout;
import dev.vaco.learner.TrainBatch;
import dev.vaco.model.ConfigException;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;
import dev.vaco.learner.optim.OptimConfig;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.GraphOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.SftConfig;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.sft.WarmStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * LoRA runs on the tiny built-in model: the warm start trains the adapter only, and an RL run with {@code lora.r=4}
 * pushes merged weights the server agrees with, checkpoints the adapter in PEFT's format and resumes from it; on
 * servers with LoRA inputs the pushes carry the adapter alone, and the canaries pass.
 */
class LoraRunTest {
    @TempDir Path dir;
    ModelDir.Loaded loaded;

    /** The built-in tiny model (seed 1), written at the first call of a test under its temporary directory. */
    private Path model() throws Exception {
        Path m = dir.resolve("model");
        if (loaded == null) loaded = ModelInit.initTiny(m, 1);
        return m;
    }

    @Test
    void theWarmStartTrainsTheAdapterAndLeavesTheBaseAlone() throws Exception {
        Path model = model();
        LoraConfig lora = new LoraConfig(4, 16, 0.0, LoraConfig.ALL_LINEAR, false, false);
        try (Tokenizer tok = Tokenizer.load(model); NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(loaded.config(), loaded.weights(), lora, 7)) {
            Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
            Iterator<Problem> data = DataCursor.synthetic(3, LevelMix.DEFAULT, 8).train();
            List<Rollout> fixed = batch(data, prompts, 32);
            double before = loss(policy, root, fixed);
            WarmStart.Report r = WarmStart.run(policy, root, new SftConfig(40, 2e-2, 8, 4, -1, "", 0, 0), OptimConfig.defaults(),
                    data, prompts, null);
            double after = loss(policy, root, fixed);
            System.out.printf("LoRA warm start (r 4, alpha 16, all-linear): loss %.4f -> %.4f in %d steps, %.1f s%n", before,
                    after, r.steps(), r.seconds());
            assertThat(after).isLessThan(0.9 * before);
            var exported = policy.exportWeights(); // merged; the base arrays themselves must be untouched
            try (TorchPolicy off = policy.withoutAdapter()) {
                var base = off.parameters();
                for (var t : loaded.weights().tensors()) {
                    assertThat(base.get(t.name()).toFloatArray()).as(t.name()).containsExactly(t.toArray());
                }
            }
            assertThat(exported.get("model.layers.0.self_attn.q_proj.weight").toArray())
                    .isNotEqualTo(loaded.weights().get("model.layers.0.self_attn.q_proj.weight").toArray());
        }
    }

    private static List<Rollout> batch(Iterator<Problem> data, Prompts prompts, int n) {
        List<Rollout> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Problem p = data.next();
            int[] c = prompts.completionIds(p);
            rows.add(new Rollout(p, i, prompts.build(p).ids(), c, new float[c.length], new long[c.length], 1f,
                    "CORRECT", "stop"));
        }
        return rows;
    }

    /** The warm start's loss (token-mean NLL of the completions) on {@code rows}, without gradient. */
    private static double loss(TorchPolicy policy, NDManager root, List<Rollout> rows) {
        try (NDManager m = root.newSubManager()) {
            TrainBatch b = TrainBatch.build(m, rows, 0, 0);
            NDArray logp = policy.tokenLogProbs(b.tokens(), b.targets());
            return -logp.mul(b.mask()).sum().getFloat() / b.mask().sum().getFloat();
        }
    }

    private static List<String> overrides(Path run, int steps) {
        return List.of("run.out_dir=" + run, "run.steps=" + steps, "run.eval_every=0", "run.checkpoint_every=1",
                "run.eval_problems=8", "sft.steps=3", "sft.warmup_steps=1", "sft.batch_size=4",
                "rollout.prompts_per_step=2", "rollout.group_size=4", "rollout.max_tokens=12", "optim.warmup_steps=0",
                "optim.lr=1e-3", "pipeline.canary_prompts=2", "rollout.max_staleness=0", "objective.name=grpo",
                "objective.kl_coef=0.04", "lora.r=4", "lora.alpha=8", "lora.target_modules=all-linear");
    }

    private RlTrainer.Result train(List<String> overrides, PolicyClient c, boolean resume) throws Exception {
        return new RlTrainer(ConfigLoader.load(overrides), model(), List.of(c),
                new PrintStream(new ByteArrayOutputStream(), true)).run(resume);
    }

    @Test
    void anRlRunWithLoraPushesMergedWeightsCheckpointsTheAdapterAndResumes() throws Exception {
        Path model = model(), run = dir.resolve("run");
        try (Server s = Server.start(model, loaded.config(), loaded.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(32, 256, 4, PolicyOptions.DEFAULT.withThreads(1)));
             PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok")) {
            RlTrainer.Result r = train(overrides(run, 2), c, false);
            assertThat(r.steps()).isEqualTo(2);
            assertThat(s.engine().liveVersion()).isEqualTo(3);
            List<JsonNode> steps = RlTrainerTest.steps(run);
            assertThat(steps).hasSize(2);
            for (JsonNode j : steps) {
                // the server serves the merged weights; the learner computes base + adapter: the same policy
                assertThat(j.path("sync/canary_max_abs").asDouble()).isLessThan(1e-4);
                assertThat(j.path("mismatch/kl_k3").asDouble()).isCloseTo(0, within(1e-6));
                assertThat(j.path("kl/ref").asDouble(Double.NaN)).isFinite().isGreaterThanOrEqualTo(0);
            }
            Path ckpt = Checkpoint.latest(run);
            assertThat(ckpt.resolve(AdapterFiles.CONFIG)).exists();
            assertThat(ckpt.resolve(ModelDir.WEIGHTS)).as("the base is the run's model, not copied").doesNotExist();
            assertThat(Safetensors.read(ckpt.resolve(Checkpoint.OPTIMIZER)).keySet())
                    .isNotEmpty().allMatch(k -> k.contains(".lora_A.") || k.contains(".lora_B."));
            AdapterFiles.Adapter saved = AdapterFiles.read(ckpt, loaded.config());
            assertThat(saved.config().r()).isEqualTo(4);
            assertThat(saved.baseModel()).isEqualTo(model.toAbsolutePath().toString());
            assertThat(r.finalModel()).isEqualTo(run.resolve("final-adapter"));
            assertThat(AdapterFiles.read(r.finalModel(), loaded.config()).tensors())
                    .hasSize(2 * 7 * loaded.config().numHiddenLayers());
            assertThat(run.resolve("final-model")).doesNotExist(); // lora.save_merged=false

            RlTrainer.Result r2 = train(overrides(run, 3), c, true);
            assertThat(r2.steps()).isEqualTo(3);
            assertThat(RlTrainerTest.steps(run)).hasSize(3);
            assertThat(Ledger.trainedCounts(run.resolve("ledger.jsonl")).values()).containsOnly(1);
            assertThat(s.engine().liveVersion()).as("the resumed run pushed again").isGreaterThan(3);

            List<String> full = new ArrayList<>(overrides(run, 4));
            full.set(full.indexOf("lora.r=4"), "lora.r=0");
            assertThatThrownBy(() -> train(full, c, true)).hasMessageContaining("holds a LoRA adapter")
                    .hasMessageContaining("lora.r = 0");
        }
    }

    @Test
    void onServersWithLoraInputsPushesCarryTheAdapterAlone() throws Exception {
        Path model = model(), run = dir.resolve("run");
        try (Server s = Server.start(model, loaded.config(), loaded.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(32, 256, 4, PolicyOptions.DEFAULT.withThreads(1)
                        .withGraph(GraphOptions.DEFAULT.withLoraRank(8))));
             PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok")) {
            RlTrainer.Result r = train(overrides(run, 2), c, false);
            assertThat(r.steps()).isEqualTo(2);
            assertThat(s.engine().liveVersion()).isEqualTo(3);
            var cfg = loaded.config();
            long adapterBytes = 0;
            for (LoraTarget t : LoraTarget.values()) adapterBytes += 4L * 4 * (t.inFeatures(cfg) + t.outFeatures(cfg));
            adapterBytes *= cfg.numHiddenLayers();
            for (JsonNode j : RlTrainerTest.steps(run)) {
                // base + adapter inputs on the server, base + adapter in the learner: the same policy
                assertThat(j.path("sync/canary_max_abs").asDouble()).isLessThan(1e-4);
                assertThat(j.path("sync/rolled_back").isMissingNode()).isTrue();
                assertThat(j.path("mismatch/kl_k3").asDouble()).isCloseTo(0, within(1e-6));
                double sent = j.path("sync/bytes_sent").asDouble();
                System.out.printf("adapter push: %.0f bytes (the adapter's tensors %d, the full model %d)%n", sent,
                        adapterBytes, 4 * cfg.parameterCount());
                assertThat(sent).as("one adapter image (tensors + safetensors header)")
                        .isBetween((double) adapterBytes, adapterBytes + 64.0 * 1024);
            }
        }
    }

    @Test
    void loraKeysHaveDefaultsAndBadValuesNameTheKey() {
        TrainConfig d = ConfigLoader.load(List.of());
        assertThat(d.lora()).isEqualTo(LoraConfig.defaults());
        assertThat(d.lora().enabled()).isFalse();
        assertThat(ConfigLoader.toJson(d)).contains("\"lora\" : {", "\"r\" : 0", "\"alpha\" : 8.0", "\"dropout\" : 0.0",
                "\"target_modules\" : \"q_proj,v_proj\"", "\"use_rslora\" : false", "\"save_merged\" : false");
        TrainConfig c = ConfigLoader.load(List.of("lora.r=16", "lora.alpha=32", "lora.target_modules=q_proj, down_proj"));
        assertThat(c.lora().scaling()).isEqualTo(2.0);
        assertThat(c.lora().targets()).hasSize(2);
        assertThatThrownBy(() -> ConfigLoader.load(List.of("lora.r=-2"))).isInstanceOf(ConfigException.class)
                .hasMessage("lora.r: expected an integer >= 0 (0 = off), found -2");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("lora.r=4.5"))).hasMessageStartingWith("lora.r: expected an integer");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("lora.dropout=1"))).hasMessageStartingWith("lora.dropout:");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("lora.target_modules=q_proj,qkv")))
                .hasMessageStartingWith("lora.target_modules: expected modules among [q_proj").hasMessageContaining("'qkv'");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("lora.rank=4"))).hasMessageStartingWith("lora.rank: unknown key");
    }
}
