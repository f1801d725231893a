package dev.vaco.trainer.pipeline;

import dev.vaco.trainer.StopRequest;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.datasets.Problem;
import dev.vaco.fleet.FleetView;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.trainer.eval.EvalRun;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Tokenizer;
import dev.vaco.chat.ChatTemplate;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.learner.objective.Objective;
import dev.vaco.learner.optim.Optimiser;
import dev.vaco.learner.Checkpoint;
import dev.vaco.learner.Learner;
import dev.vaco.learner.Rollout;
import dev.vaco.learner.Telemetry;
import dev.vaco.trainer.sft.WarmStart;
import dev.vaco.trainer.dashboard.RunDashboard;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RL run: supervised warm start, then the rollout pipeline feeding the learner.
 *
 * <pre>
 *   admit group g while g < (p + eta + 1) * B  -->  servers sample G responses (per-token log-prob and version)
 *        --> verifier scores them --> ledger --> ready queue --> learner takes the B oldest untrained groups in admission order (or exactly
 *        batch b with injected lag) --> update --> every k steps: push weights, check canaries, admit more
 * </pre>
 *
 * eta = {@code rollout.max_staleness}; eta = 0 is the synchronous loop (generate, score, update, push, repeat).
 * Injected lag ({@code rollout.lag} = k > 0): batch b is exactly groups [bB, (b+1)B), each pinned to the version k
 * steps behind b, so the lag of every token is exactly k and the run is deterministic under its seed.
 *
 * <p>Versions: the learner after step s holds version {@code base + s}; {@code base} is the version of the warm-start
 * weights on the servers. Files under {@code run.out_dir}: {@code config.json}, {@code metrics.jsonl},
 * {@code ledger.jsonl}, {@code checkpoints/step-N/}, {@code final-model/}, {@code report.json}.
 */
public final class RlTrainer {
    /**
     * Held-out greedy accuracy after the warm start and at the end, with the evaluation curve. {@code stopped}: the run
     * ended early on a {@link StopRequest} (checkpointed at {@code steps}, no final model; {@code --resume} goes on).
     */
    public record Result(double accuracyBefore, double accuracyAfter, int steps, double seconds, Path runDir,
                         Path finalModel, List<double[]> curve, boolean stopped) {}

    private final TrainConfig cfg;
    private final Path modelDir;
    private final List<PolicyClient> servers;
    private final PrintStream out;
    private FleetView fleet;
    private String fleetToken, fleetApiKey;

    public RlTrainer(TrainConfig cfg, Path modelDir, List<PolicyClient> servers, PrintStream out) {
        this.cfg = cfg;
        this.modelDir = modelDir;
        this.servers = servers;
        this.out = out;
    }

    /** Follows the servers of a cluster during the run: those that join are added, those that leave removed. */
    public RlTrainer following(FleetView fleet, String weightsToken, String apiKey) {
        this.fleet = fleet;
        this.fleetToken = weightsToken;
        this.fleetApiKey = apiKey;
        return this;
    }

    /**
     * Runs the RL run, or with {@code resume} continues it from its newest checkpoint, phase by phase: resume or warm
     * start, start the rollouts, evaluate the start; then each step collect, learn, push and verify (then admit more),
     * record, evaluate and checkpoint when due; at the end report and export the final model.
     */
    public Result run(boolean resume) throws Exception {
        long t0 = System.nanoTime();
        Path runDir = Path.of(cfg.run().outDir());
        if (!resume) refuseEarlierRun(runDir);
        Files.createDirectories(runDir);
        ConfigLoader.writeResolved(cfg, runDir.resolve("config.json"));
        ModelDir.Loaded model = ModelDir.load(modelDir);
        try (Tokenizer tok = Tokenizer.load(modelDir);
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults());
             NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = LearnerSetup.policy(cfg, model);
             Optimiser optimiser = Optimiser.from(root, cfg.optim(), cfg.run().steps(),
                     cfg.rollout().updatesPerBatch() * cfg.optim().minibatches());
             Telemetry telemetry = new Telemetry(runDir.resolve("metrics.jsonl"), out);
             Ledger ledger = new Ledger(runDir.resolve("ledger.jsonl"));
             RunDashboard dashboard = RunDashboard.open(cfg.dashboard(), runDir, out)) {
            if (ledger.tornBytesRepaired() > 0) out.printf("ledger.jsonl: cut a torn last line of %d bytes (a write cut"
                    + " short by a kill; never acknowledged)%n", ledger.tornBytesRepaired());
            Run r = new Run(t0, runDir, model, tok, verifier, root, policy, optimiser, telemetry, ledger);
            boolean resumed = r.resumeFromCheckpoint(resume);
            if (!resumed && !r.warmStart()) return r.result(null, true);
            try (RolloutCoordinator coord = new RolloutCoordinator(servers, new RolloutCoordinator.Sampling(
                    cfg.rollout().groupSize(), cfg.rollout().temperature(), cfg.rollout().maxTokens()), verifier, ledger, out);
                 FleetFollower ignored = FleetFollower.follow(fleet, coord, fleetToken, fleetApiKey, out)) {
                r.startRollouts(coord, resumed);
                dashboard.follow(r::status);
                r.evaluateStart();
                r.admit();
                while (r.step < cfg.run().steps()) {
                    long s0 = System.nanoTime();
                    Batch batch = r.collect(s0);
                    Map<String, Double> m = r.learn(batch);
                    boolean timeUp = r.timeUp();
                    boolean last = r.step == cfg.run().steps() || timeUp;
                    if (r.step % cfg.pipeline().pushEvery() == 0 || last) {
                        r.pushAndVerify(m);
                        r.admit();
                    }
                    r.recordStep(m, batch.waited(), s0);
                    if (last || r.due(cfg.run().evalEvery())) last = r.evaluate(last);
                    boolean stop = !last && StopRequest.requested();
                    if (last || stop || r.due(cfg.run().checkpointEvery())) r.checkpoint();
                    if (timeUp) out.printf("time budget of %.1f minutes reached at step %d%n", cfg.pipeline().maxMinutes(), r.step);
                    if (stop) return r.stopOnRequest();
                    if (last) break;
                }
                r.report();
                return r.result(r.exportFinalModel(), false);
            } finally {
                if (r.reference != null) r.reference.close();
            }
        }
    }

    /** One learner step's input: the rollouts of whole groups, their group numbers, and the wait for them. */
    private record Batch(List<Rollout> rollouts, List<Long> ids, double waited) {}

    /**
     * One run: its resources, opened by {@link #run}, and its state. Versions: the learner after step s holds
     * {@code base + s}; the servers sample with {@code base + publishedStep} ({@link WeightSync#verifiedVersion}).
     */
    private final class Run {
        final long t0;
        final Path runDir;
        final ModelDir.Loaded model;
        final Verifier verifier;
        final NDManager root;
        final TorchPolicy policy;
        final Optimiser optimiser;
        final Telemetry telemetry;
        final Ledger ledger;
        final Prompts prompts;
        final DataCursor data;
        final List<Prompts.Prompt> heldOut = new ArrayList<>();
        final List<WeightSync.Canary> canaries;
        /** Made once the starting weights are known (after the warm start or the resume): they are the KL reference. */
        Learner learner;
        /** The KL term's frozen reference policy, when {@code objective.kl_coef > 0}; closed with the run. */
        TorchPolicy reference;
        final int batch = cfg.rollout().promptsPerStep();
        final int eta = Math.max(cfg.rollout().maxStaleness(), cfg.rollout().lag());
        final long totalGroups = (long) cfg.run().steps() * batch;
        final List<double[]> curve = new ArrayList<>();
        /** Admitted groups the resumed run's ledger left untrained. */
        final Map<Long, Ledger.Entry> pending = new LinkedHashMap<>();
        RolloutCoordinator coord;
        WeightSync sync;
        int step, publishedStep;
        long base, nextGroup, sftConsumed;
        double before = Double.NaN, after = Double.NaN;

        Run(long t0, Path runDir, ModelDir.Loaded model, Tokenizer tok, Verifier verifier, NDManager root,
            TorchPolicy policy, Optimiser optimiser, Telemetry telemetry, Ledger ledger) throws IOException {
            this.t0 = t0;
            this.runDir = runDir;
            this.model = model;
            this.verifier = verifier;
            this.root = root;
            this.policy = policy;
            this.optimiser = optimiser;
            this.telemetry = telemetry;
            this.ledger = ledger;
            this.prompts = prompts(tok);
            this.data = cursor(cfg.run().seed()).excluding(DataCursor.demonstratedQuestions(cfg));
            for (Problem p : data.heldOut()) heldOut.add(prompts.build(p));
            this.canaries = WeightSync.canaries(heldOut, prompts, cfg.pipeline().canaryPrompts());
        }

        /** With {@code --resume}: restores the newest checkpoint and the ledger's untrained groups; false if none. */
        boolean resumeFromCheckpoint(boolean resume) throws IOException, InterruptedException {
            Path ckpt = resume ? Checkpoint.latest(runDir) : null;
            if (resume && ckpt == null) out.println("--resume: no checkpoint in " + runDir + ", starting fresh");
            if (ckpt == null) return false;
            Checkpoint.State s = Checkpoint.readState(ckpt);
            Checkpoint.restore(ckpt, policy, optimiser.adamW());
            optimiser.restoreAppliedSteps(s.optimiserSteps());
            step = s.step();
            sftConsumed = s.extra().path("sft_consumed").asLong();
            ledger.resume(step);
            Path file = runDir.resolve("ledger.jsonl");
            // a version above the checkpoint's was made by a step lost with the process: rolled back, its groups resampled
            for (long v : Ledger.sampledAbove(file, s.version())) ledger.rejected(v, "rollback");
            for (Ledger.Entry e : Ledger.replay(file).values()) {
                nextGroup = Math.max(nextGroup, e.group() + 1);
                if (e.trainedAtStep() == null) pending.put(e.group(), e);
            }
            data.skip(sftConsumed + nextGroup);
            // a restarted server may be behind: versions on servers only ever increase
            base = Math.max(s.extra().path("base").asLong(), highestUsed() + 1 - step);
            out.printf("resumed from %s: step %d; %d groups admitted, %d still to train (%d already scored)%n", ckpt,
                    step, nextGroup, pending.size(), pending.values().stream().filter(e -> e.scored() != null).count());
            return true;
        }

        /** A fresh run's supervised warm start; false when a stop request ended it. */
        boolean warmStart() throws IOException, InterruptedException {
            // a warm start with its own seed draws its own examples; the RL stream then starts at its beginning
            long sftSeed = cfg.sft().seedOr(cfg.run().seed());
            // (a limited set of demonstrations is a pool of its own, which RL's stream leaves out)
            Iterator<Problem> examples = cfg.sft().demonstrations() > 0 ? DataCursor.cycle(DataCursor.demonstrationPool(cfg), sftSeed)
                    : cfg.levelsApart() ? DataCursor.synthetic(sftSeed, cfg.sftMix(), 1).train()
                    : sftSeed == cfg.run().seed() ? data.train() : cursor(sftSeed).train();
            WarmStart.Report sft = WarmStart.run(policy, root, cfg.sft(), cfg.optim(), examples, prompts, out::println);
            if (StopRequest.requested()) {
                // nothing is checkpointed inside the warm start: a rerun starts it again
                out.printf("stopped during the warm start (step %d of %d); nothing to resume%n", sft.steps(), cfg.sft().steps());
                return false;
            }
            if (sft.steps() > 0) out.printf("warm start: %d steps, loss %.4f, %.0f s%n", sft.steps(), sft.finalLoss(), sft.seconds());
            sftConsumed = data.consumed();
            base = highestUsed() + 1;
            return true;
        }

        /** Publishes the starting weights, checkpoints a fresh run at step 0, reissues the ledger's untrained groups. */
        void startRollouts(RolloutCoordinator coord, boolean resumed) throws Exception {
            this.coord = coord;
            reference = LearnerSetup.reference(cfg, model, policy, runDir, resumed);
            learner = new Learner(policy, reference, Objective.create(cfg.objective()), optimiser,
                    LearnerSetup.settings(cfg), root);
            sync = new WeightSync(coord, policy, canaries, cfg.pipeline(), cfg.rollout().temperature(), out);
            publishedStep = step;
            sync.publishStart(base + step);
            if (!resumed) checkpoint();
            for (Ledger.Entry e : pending.values()) {
                Long pin = cfg.rollout().lag() > 0 ? pinFor(e.group()) : null;
                var g = new RolloutCoordinator.Group(e.group(), e.problem(), e.prompt(), e.seed(), pin, e.scored());
                if (e.scored() != null) coord.restoreScored(g);
                else coord.issue(g);
            }
        }

        /**
         * Admits groups up to {@code (publishedStep + eta + 1) * B} (of the run's total): problem, prompt ids, seed and
         * pin go to the ledger first.
         */
        void admit() {
            long limit = Math.min(totalGroups, (long) (publishedStep + eta + 1) * batch);
            for (; nextGroup < limit; nextGroup++) {
                Problem p = data.train().next();
                int[] ids = prompts.build(p).ids();
                long seed = cfg.run().seed() * 1_000_003L + nextGroup;
                Long pin = cfg.rollout().lag() > 0 ? pinFor(nextGroup) : null;
                ledger.admit(nextGroup, p, ids, seed, pin);
                coord.issue(new RolloutCoordinator.Group(nextGroup, p, ids, seed, pin, null));
            }
        }

        /** Injected lag k: group g of batch b = g / B samples with the version of step b - k (the warm start before that). */
        private Long pinFor(long group) {
            long b = group / batch;
            return base + Math.max(0, b - cfg.rollout().lag());
        }

        /** The next batch: the B oldest untrained groups (waiting for them: the staleness bound), or with injected lag exactly groups [sB, (s+1)B). */
        Batch collect(long s0) throws InterruptedException {
            List<RolloutCoordinator.Group> groups = cfg.rollout().lag() > 0
                    ? coord.takeRange((long) step * batch, (long) (step + 1) * batch)
                    : coord.takeOldest(batch);
            double waited = (System.nanoTime() - s0) / 1e9;
            List<Rollout> rollouts = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            for (var g : groups) {
                rollouts.addAll(g.rollouts());
                ids.add(g.index());
            }
            return new Batch(rollouts, ids, waited);
        }

        /** One learner step on the batch; the ledger marks its groups trained. */
        Map<String, Double> learn(Batch b) {
            long t = System.nanoTime();
            Map<String, Double> m = learner.step(b.rollouts(), base + step);
            m.put("learner/step_s", (System.nanoTime() - t) / 1e9);
            step++;
            ledger.trained(b.ids(), step);
            return m;
        }

        /**
         * Stage + canary + activate (or drop), the one place new weights reach the servers ({@link WeightSync#push}):
         * weight distribution and an adapter-only push go there too. A dropped push is staged again under the next
         * number (a version is never reused), shifting base by one.
         */
        void pushAndVerify(Map<String, Double> m) throws Exception {
            long v = sync.push(base + step, cfg.pipeline().corruptPushAt() == step, m);
            base = v - step;
            publishedStep = step;
        }

        boolean timeUp() {
            return cfg.pipeline().maxMinutes() > 0 && (System.nanoTime() - t0) / 6e10 >= cfg.pipeline().maxMinutes();
        }

        /** Whether a step-count schedule ({@code run.eval_every}, {@code run.checkpoint_every}; 0 = off) falls on this step. */
        boolean due(int every) {
            return every > 0 && step % every == 0;
        }

        /** The step's metrics with the pipeline's state, to metrics.jsonl. */
        void recordStep(Map<String, Double> m, double waited, long s0) throws IOException {
            m.put("pipeline/wait_s", waited);
            m.put("pipeline/in_flight_groups", (double) coord.inFlight());
            m.put("pipeline/ready_groups", (double) coord.readyCount());
            m.put("pipeline/retries", (double) coord.retries());
            m.put("pipeline/healthy_servers", (double) coord.healthyServers());
            m.put("pipeline/generated_tokens", (double) coord.generatedTokens());
            m.put("pipeline/elapsed_s", seconds());
            telemetry.step(step, base + step, (System.nanoTime() - s0) / 1e9, m);
        }

        /** The pipeline now, for the dashboard: the coordinator's state and the admission bound (eta, groups admitted). */
        ObjectNode status() {
            return coord.status().put("step", step).put("max_staleness", eta).put("prompts_per_step", batch)
                    .put("admitted_groups", nextGroup).put("admission_limit", Math.min(totalGroups, (long) (publishedStep + eta + 1) * batch));
        }

        /** Held-out accuracy of the starting weights: the curve's first point. */
        void evaluateStart() throws IOException, InterruptedException {
            before = evaluateAt(sync.verifiedVersion());
            curve.add(new double[] {step, before, seconds()});
            after = before;
        }

        /** Held-out accuracy of the version the servers hold; returns whether the run ends here (target reached). */
        boolean evaluate(boolean last) throws IOException, InterruptedException {
            after = evaluateAt(sync.verifiedVersion());
            curve.add(new double[] {step, after, seconds()});
            double target = cfg.run().targetAccuracy();
            if (target > 0 && after >= target && !last) {
                out.printf("target accuracy %.1f%% reached at step %d%n", 100 * target, step);
                return true;
            }
            return last;
        }

        /** Greedy accuracy on the held-out set at a pinned version, on the first server that answers. */
        private double evaluateAt(long version) throws IOException, InterruptedException {
            EvalRun.Config ec = new EvalRun.Config(1, 0, 1, cfg.rollout().maxTokens(), cfg.run().seed(), version, 64, 200);
            EvalRun.Summary s = null;
            RuntimeException last = null;
            List<PolicyClient> candidates = new ArrayList<>(coord.current());
            for (PolicyClient c : coord.all()) if (!candidates.contains(c)) candidates.add(c);
            for (PolicyClient server : candidates) {
                try {
                    s = new EvalRun(server, verifier, ec).run(heldOut, null, null);
                    break;
                } catch (RuntimeException e) {
                    last = e; // that server went down mid-evaluation: try the next
                }
            }
            if (s == null) throw new IllegalStateException("no server could evaluate version " + version, last);
            var mean = s.scores().get(2).value();
            // the built-in task's levels, each on its own (a file's "level" field is free text)
            Map<String, Double> byLevel = cfg.run().dataset().equals("synthetic") ? s.byLevel() : Map.of();
            telemetry.eval(step, version, mean.estimate(), mean.lower(), mean.upper(), s.seconds(), byLevel);
            return mean.estimate();
        }

        /** Weights, optimiser state and where the data and ledger stand: what --resume needs. */
        void checkpoint() throws IOException {
            ObjectNode extra = JsonNodeFactory.instance.objectNode().put("base", base).put("sft_consumed", sftConsumed)
                    .put("next_group", nextGroup);
            Checkpoint.save(runDir, modelDir, policy, optimiser.adamW().exportState(),
                    new Checkpoint.State(step, base + step, optimiser.appliedSteps(), extra));
        }

        /** A stop request between steps: the checkpoint is written; groups in flight stay in the ledger untrained. */
        Result stopOnRequest() throws IOException {
            // the resumed run trains the groups in flight exactly once
            out.printf("stopped at step %d on request; checkpoint %s; continue with --resume%n", step,
                    Checkpoint.latest(runDir));
            return result(null, true);
        }

        /** What was trained on versus what was generated (nothing is dropped; the difference is the untrained tail). */
        void report() throws IOException {
            Map<Long, Ledger.Entry> all = Ledger.replay(runDir.resolve("ledger.jsonl"));
            double[] gen = new double[3], tr = new double[3]; // groups, mean length, mean level
            for (Ledger.Entry e : all.values()) {
                if (e.scored() == null) continue;
                double len = e.scored().stream().mapToInt(Rollout::length).average().orElse(0);
                double lvl = level(e.problem());
                gen[0]++; gen[1] += len; gen[2] += lvl;
                if (e.trainedAtStep() != null) { tr[0]++; tr[1] += len; tr[2] += lvl; }
            }
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.putObject("generated").put("groups", gen[0]).put("mean_length", gen[1] / Math.max(1, gen[0]))
                    .put("mean_level", gen[2] / Math.max(1, gen[0]));
            o.putObject("trained").put("groups", tr[0]).put("mean_length", tr[1] / Math.max(1, tr[0]))
                    .put("mean_level", tr[2] / Math.max(1, tr[0]));
            o.put("dropped", 0);
            Files.writeString(runDir.resolve("report.json"), o.toPrettyString() + "\n");
            out.printf("trained on %d of %d generated groups (mean length %.1f vs %.1f tokens, mean level %.2f vs %.2f); none dropped%n",
                    (int) tr[0], (int) gen[0], tr[1] / Math.max(1, tr[0]), gen[1] / Math.max(1, gen[0]),
                    tr[2] / Math.max(1, tr[0]), gen[2] / Math.max(1, gen[0]));
        }

        /** The trained model (or LoRA adapter) with the starting model's tokenizer ({@link LearnerSetup#exportFinal}). */
        Path exportFinalModel() throws IOException {
            return LearnerSetup.exportFinal(cfg, modelDir, model, policy, runDir);
        }

        double seconds() {
            return (System.nanoTime() - t0) / 1e9;
        }

        Result result(Path finalModel, boolean stopped) {
            return new Result(before, after, step, seconds(), runDir, finalModel, curve, stopped);
        }
    }

    /** Whether {@code runDir} holds a run: a checkpoint, or a ledger with admitted groups. */
    public static boolean holdsRun(Path runDir) throws IOException {
        Path ledger = runDir.resolve("ledger.jsonl");
        return Checkpoint.latest(runDir) != null || (Files.isRegularFile(ledger) && Files.size(ledger) > 0);
    }

    /**
     * A fresh start in a directory that holds a run would overwrite its checkpoints and final model and append to its
     * ledger and metrics (a later --resume would then replay two runs as one): refuse, naming the way out.
     */
    public static void refuseEarlierRun(Path runDir) throws IOException {
        if (!holdsRun(runDir)) return;
        Path ckpt = Checkpoint.latest(runDir);
        throw new IllegalArgumentException("run.out_dir " + runDir + " already holds a run"
                + (ckpt != null ? " (newest checkpoint " + ckpt.getFileName() + ")" : "")
                + ": continue it with --resume, or start over in another run.out_dir");
    }

    private DataCursor cursor(long seed) {
        return DataCursor.of(cfg, seed);
    }

    /** The highest version number any server has used: the run numbers its versions above it (a server never reuses one). */
    private long highestUsed() throws IOException, InterruptedException {
        long v = 0;
        for (PolicyClient c : servers) {
            try {
                v = Math.max(v, c.versions().highest());
            } catch (IOException e) {
                // a server that is down now gets the weights when it comes back
            }
        }
        return v;
    }

    private Prompts prompts(Tokenizer tok) throws IOException {
        if (cfg.run().dataset().equals("synthetic")) return new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
        Path tc = modelDir.resolve(ModelDir.TOKENIZER_CONFIG);
        ChatTemplate t = Files.isRegularFile(tc) && Files.readString(tc).contains("\"chat_template\"")
                ? ChatTemplate.fromTokenizerConfig(tc) : null;
        return new Prompts(tok, t, t != null ? PromptStyle.CHAT : PromptStyle.PLAIN, List.of());
    }

    private static double level(Problem p) {
        try {
            return p.level() == null ? 0 : Double.parseDouble(p.level());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
