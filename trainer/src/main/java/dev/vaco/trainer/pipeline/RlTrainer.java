package dev.vaco.trainer.pipeline;

import dev.vaco.trainer.StopRequest;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.trainer.eval.EvalRun;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Tensor;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
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

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RL run: supervised warm start, then the rollout pipeline feeding the learner.
 *
 * <pre>
 *   admit group g while g < (p + eta + 1) * B  -->  servers sample G responses (per-token log-prob and version)
 *        --> verifier scores them --> ledger --> ready queue --> learner takes B groups oldest first (or exactly
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

    public RlTrainer(TrainConfig cfg, Path modelDir, List<PolicyClient> servers, PrintStream out) {
        this.cfg = cfg;
        this.modelDir = modelDir;
        this.servers = servers;
        this.out = out;
    }

    public Result run(boolean resume) throws Exception {
        long t0 = System.nanoTime();
        var rc = cfg.rollout();
        var pc = cfg.pipeline();
        int batch = rc.promptsPerStep();
        int eta = Math.max(rc.maxStaleness(), rc.lag());
        Path runDir = Path.of(cfg.run().outDir());
        if (!resume) refuseEarlierRun(runDir);
        Files.createDirectories(runDir);
        ConfigLoader.writeResolved(cfg, runDir.resolve("config.json"));
        ModelDir.Loaded model = ModelDir.load(modelDir);
        List<double[]> curve = new ArrayList<>();
        try (Tokenizer tok = Tokenizer.load(modelDir);
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults());
             NDManager root = Engines.pytorch().newBaseManager();
             TorchPolicy policy = TorchPolicy.create(model.config(), model.weights());
             Optimiser optimiser = Optimiser.from(root, cfg.optim(), cfg.run().steps());
             Telemetry telemetry = new Telemetry(runDir.resolve("metrics.jsonl"), out);
             Ledger ledger = new Ledger(runDir.resolve("ledger.jsonl"))) {
            Prompts prompts = prompts(tok);
            DataCursor data = cursor(cfg.run().seed());
            List<Prompts.Prompt> heldOut = new ArrayList<>();
            for (Problem p : data.heldOut()) heldOut.add(prompts.build(p));
            List<Canary> canaries = canaries(heldOut, prompts, pc.canaryPrompts());

            int step = 0;
            long base, nextGroup = 0, sftConsumed;
            Map<Long, Ledger.Entry> pending = new LinkedHashMap<>();
            Path ckpt = resume ? Checkpoint.latest(runDir) : null;
            if (resume && ckpt == null) out.println("--resume: no checkpoint in " + runDir + ", starting fresh");
            if (ckpt != null) {
                Checkpoint.State s = Checkpoint.readState(ckpt);
                policy.loadWeights(ModelDir.load(ckpt).weights());
                optimiser.adamW().importState(Checkpoint.readOptimiser(ckpt), policy.parameters());
                optimiser.restoreAppliedSteps(s.optimiserSteps());
                step = s.step();
                sftConsumed = s.extra().path("sft_consumed").asLong();
                ledger.resume(step);
                for (Ledger.Entry e : Ledger.replay(runDir.resolve("ledger.jsonl")).values()) {
                    nextGroup = Math.max(nextGroup, e.group() + 1);
                    if (e.trainedAtStep() == null) pending.put(e.group(), e);
                }
                data.skip(sftConsumed + nextGroup);
                // a restarted server may be behind: versions on servers only ever increase
                base = Math.max(s.extra().path("base").asLong(), maxLive() + 1 - step);
                out.printf("resumed from %s: step %d; %d groups admitted, %d still to train (%d already scored)%n", ckpt,
                        step, nextGroup, pending.size(), pending.values().stream().filter(e -> e.scored() != null).count());
            } else {
                // a warm start with its own seed draws its own examples; the RL stream then starts at its beginning
                long sftSeed = cfg.sft().seedOr(cfg.run().seed());
                DataCursor sftData = sftSeed == cfg.run().seed() ? data : cursor(sftSeed);
                WarmStart.Report sft = WarmStart.run(policy, root, cfg.sft(), cfg.optim(), sftData.train(), prompts, out::println);
                if (StopRequest.requested()) {
                    // nothing is checkpointed inside the warm start: a rerun starts it again
                    out.printf("stopped during the warm start (step %d of %d); nothing to resume%n", sft.steps(), cfg.sft().steps());
                    return new Result(Double.NaN, Double.NaN, 0, (System.nanoTime() - t0) / 1e9, runDir, null, curve, true);
                }
                if (sft.steps() > 0) out.printf("warm start: %d steps, loss %.4f, %.0f s%n", sft.steps(), sft.finalLoss(), sft.seconds());
                sftConsumed = data.consumed();
                base = maxLive() + 1;
            }

            try (RolloutCoordinator coord = new RolloutCoordinator(servers,
                    new RolloutCoordinator.Sampling(rc.groupSize(), rc.temperature(), rc.maxTokens()), verifier, ledger)) {
                long version = base + step;
                Weights published = policy.exportWeights();
                coord.publish(published, version, null);
                if (ckpt == null) save(runDir, model, policy, optimiser, step, base, sftConsumed, 0);
                for (Ledger.Entry e : pending.values()) {
                    Long pin = rc.lag() > 0 ? pinFor(e.group(), batch, base) : null;
                    var g = new RolloutCoordinator.Group(e.group(), e.problem(), e.prompt(), e.seed(), pin, e.scored());
                    if (e.scored() != null) coord.restoreScored(g);
                    else coord.issue(g);
                }
                Learner learner = new Learner(policy, Objective.create(cfg.objective()), optimiser, learnerSettings(cfg), root);
                double before = evaluate(heldOut, verifier, coord, version, step, telemetry);
                curve.add(new double[] {step, before, (System.nanoTime() - t0) / 1e9});
                double after = before;
                long totalGroups = (long) cfg.run().steps() * batch;
                int publishedStep = step;
                nextGroup = admit(coord, ledger, data, prompts, nextGroup, Math.min(totalGroups, (long) (publishedStep + eta + 1) * batch), batch, base);
                while (step < cfg.run().steps()) {
                    long s0 = System.nanoTime();
                    List<RolloutCoordinator.Group> groups = rc.lag() > 0
                            ? coord.takeRange((long) step * batch, (long) (step + 1) * batch)
                            : coord.takeOldest(batch);
                    double waited = (System.nanoTime() - s0) / 1e9;
                    List<Rollout> rollouts = new ArrayList<>();
                    List<Long> ids = new ArrayList<>();
                    for (var g : groups) {
                        rollouts.addAll(g.rollouts());
                        ids.add(g.index());
                    }
                    Map<String, Double> m = learner.step(rollouts, base + step);
                    step++;
                    ledger.trained(ids, step);
                    boolean timeUp = pc.maxMinutes() > 0 && (System.nanoTime() - t0) / 6e10 >= pc.maxMinutes();
                    boolean last = step == cfg.run().steps() || timeUp;
                    if (step % pc.pushEvery() == 0 || last) {
                        Weights w = policy.exportWeights();
                        long v = base + step;
                        m.put("sync/push_s", coord.publish(w, v, pc.corruptPushAt() == step ? x -> corrupt(w) : null));
                        double mismatch = canaryMismatch(canaries, coord, policy, v);
                        m.put("sync/canary_max_abs", mismatch);
                        if (mismatch > pc.canaryThreshold()) {
                            // Roll back to the last verified version, then push once more under a fresh number (a
                            // version number is never reused); a second mismatch is an engine bug: stop loudly.
                            coord.rollback(base + publishedStep, published);
                            m.put("sync/rolled_back", 1.0);
                            out.printf("push of version %d rolled back to %d: canary mismatch %.2e > %.1e; pushing again as %d%n",
                                    v, base + publishedStep, mismatch, pc.canaryThreshold(), v + 1);
                            base++;
                            v = base + step;
                            coord.publish(w, v, null);
                            double again = canaryMismatch(canaries, coord, policy, v);
                            m.put("sync/canary_max_abs_retry", again);
                            if (again > pc.canaryThreshold()) {
                                throw new IllegalStateException("the servers' log-probs differ from the learner's by " + again
                                        + " after a fresh push of version " + v + ": the inference engine and the trainer disagree");
                            }
                        }
                        published = w;
                        publishedStep = step;
                        nextGroup = admit(coord, ledger, data, prompts, nextGroup,
                                Math.min(totalGroups, (long) (publishedStep + eta + 1) * batch), batch, base);
                    }
                    m.put("pipeline/wait_s", waited);
                    m.put("pipeline/in_flight_groups", (double) coord.inFlight());
                    m.put("pipeline/ready_groups", (double) coord.readyCount());
                    m.put("pipeline/retries", (double) coord.retries());
                    m.put("pipeline/healthy_servers", (double) coord.healthyServers());
                    m.put("pipeline/generated_tokens", (double) coord.generatedTokens());
                    telemetry.step(step, base + step, (System.nanoTime() - s0) / 1e9, m);
                    if (last || (cfg.run().evalEvery() > 0 && step % cfg.run().evalEvery() == 0)) {
                        after = evaluate(heldOut, verifier, coord, base + publishedStep, step, telemetry);
                        curve.add(new double[] {step, after, (System.nanoTime() - t0) / 1e9});
                        double target = cfg.run().targetAccuracy();
                        if (target > 0 && after >= target && !last) {
                            out.printf("target accuracy %.1f%% reached at step %d%n", 100 * target, step);
                            last = true;
                        }
                    }
                    boolean stop = !last && StopRequest.requested();
                    if (last || stop || (cfg.run().checkpointEvery() > 0 && step % cfg.run().checkpointEvery() == 0)) {
                        save(runDir, model, policy, optimiser, step, base, sftConsumed, nextGroup);
                    }
                    if (timeUp) out.printf("time budget of %.1f minutes reached at step %d%n", pc.maxMinutes(), step);
                    if (stop) {
                        // groups in flight stay in the ledger untrained: the resumed run trains them exactly once
                        out.printf("stopped at step %d on request; checkpoint %s; continue with --resume%n", step,
                                Checkpoint.latest(runDir));
                        return new Result(before, after, step, (System.nanoTime() - t0) / 1e9, runDir, null, curve, true);
                    }
                    if (last) break;
                }
                report(runDir, ledger);
                Path finalModel = runDir.resolve("final-model");
                Checkpoint.deleteTree(finalModel);
                ModelDir.save(finalModel, model.config(), policy.exportWeights());
                ModelDir.copyTokenizer(modelDir, finalModel);
                return new Result(before, after, step, (System.nanoTime() - t0) / 1e9, runDir, finalModel, curve, false);
            }
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
        var run = cfg.run();
        return new DataCursor(run.dataset(), run.evalDataset(), run.evalProblems(), seed, run.levelMix());
    }

    /** Admits groups up to {@code limit} (exclusive): problem, prompt ids, seed and pin go to the ledger first. */
    private long admit(RolloutCoordinator coord, Ledger ledger, DataCursor data, Prompts prompts, long next, long limit,
                       int batch, long base) {
        for (; next < limit; next++) {
            Problem p = data.train().next();
            int[] ids = prompts.build(p).ids();
            long seed = cfg.run().seed() * 1_000_003L + next;
            Long pin = cfg.rollout().lag() > 0 ? pinFor(next, batch, base) : null;
            ledger.admit(next, p, ids, seed, pin);
            coord.issue(new RolloutCoordinator.Group(next, p, ids, seed, pin, null));
        }
        return next;
    }

    /** Injected lag k: group g of batch b = g / B samples with the version of step b - k (the warm start before that). */
    private Long pinFor(long group, int batch, long base) {
        long b = group / batch;
        return base + Math.max(0, b - cfg.rollout().lag());
    }

    private long maxLive() throws IOException, InterruptedException {
        long v = 0;
        for (PolicyClient c : servers) {
            try {
                v = Math.max(v, c.liveVersion());
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

    // ------------------------------------------------------------------ canaries: verified weight sync

    private record Canary(int[] prompt, int[] completion) {}

    private static List<Canary> canaries(List<Prompts.Prompt> heldOut, Prompts prompts, int n) {
        List<Canary> out = new ArrayList<>();
        for (Prompts.Prompt p : heldOut) {
            if (out.size() == n) break;
            if (p.problem().solution() != null) out.add(new Canary(p.ids(), prompts.completionIds(p.problem())));
        }
        return out;
    }

    /** Largest |server - learner| log-prob over the canary tokens, at the version just pushed. */
    private double canaryMismatch(List<Canary> canaries, RolloutCoordinator coord, TorchPolicy policy, long version) {
        if (canaries.isEmpty()) return 0;
        float temperature = (float) cfg.rollout().temperature();
        double worst = 0;
        for (Canary c : canaries) {
            float[] learner = learnerLogprobs(policy, c, temperature);
            for (PolicyClient server : coord.current()) {
                float[] served;
                try {
                    served = server.score(c.prompt(), c.completion(), temperature, version).join();
                } catch (java.util.concurrent.CompletionException e) {
                    continue; // a server that died since the push: the coordinator's health check takes it out
                }
                for (int i = 0; i < served.length; i++) worst = Math.max(worst, Math.abs(served[i] - learner[i]));
            }
        }
        return worst;
    }

    private static float[] learnerLogprobs(TorchPolicy policy, Canary c, float temperature) {
        int p = c.prompt().length, n = p + c.completion().length - 1;
        int[] tokens = new int[n], targets = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = i < p ? c.prompt()[i] : c.completion()[i - p];
            targets[i] = i + 1 < p ? c.prompt()[i + 1] : c.completion()[i + 1 - p];
        }
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            NDArray t = m.create(tokens, new ai.djl.ndarray.types.Shape(1, n));
            NDArray y = m.create(targets, new ai.djl.ndarray.types.Shape(1, n));
            float[] all = policy.tokenLogProbs(t, y, temperature).toFloatArray();
            float[] out = new float[c.completion().length];
            System.arraycopy(all, p - 1, out, 0, out.length);
            return out;
        }
    }

    /** Fault injection for tests: the pushed weights differ from the learner's. */
    private static Weights corrupt(Weights w) {
        Weights c = w.copy();
        Tensor norm = c.get("model.norm.weight");
        for (int i = 0; i < norm.numel(); i++) norm.data().put(i, norm.get(i) * 1.5f);
        return c;
    }

    // ------------------------------------------------------------------ evaluation, checkpoints, report

    /** Greedy accuracy on the held-out set at a pinned version, on the first server that answers. */
    private double evaluate(List<Prompts.Prompt> heldOut, Verifier verifier, RolloutCoordinator coord, long version, int step,
                            Telemetry t) throws IOException, InterruptedException {
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
        t.eval(step, version, mean.estimate(), mean.lower(), mean.upper(), s.seconds());
        return mean.estimate();
    }

    private void save(Path runDir, ModelDir.Loaded model, TorchPolicy policy, Optimiser opt, int step, long base,
                      long sftConsumed, long nextGroup) throws IOException {
        ObjectNode extra = JsonNodeFactory.instance.objectNode().put("base", base).put("sft_consumed", sftConsumed)
                .put("next_group", nextGroup);
        Checkpoint.save(runDir, modelDir, model.config(), policy.exportWeights(), opt.adamW().exportState(),
                new Checkpoint.State(step, base + step, opt.appliedSteps(), extra));
    }

    /** What was trained on versus what was generated (nothing is dropped; the difference is the untrained tail). */
    private void report(Path runDir, Ledger ledger) throws IOException {
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

    private static double level(Problem p) {
        try {
            return p.level() == null ? 0 : Double.parseDouble(p.level());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The parts of the run's configuration a learner step reads. */
    static Learner.Settings learnerSettings(TrainConfig cfg) {
        return new Learner.Settings(cfg.objective(), cfg.rollout().temperature(), cfg.rollout().updatesPerBatch(),
                cfg.optim().minibatches(), cfg.run().seed());
    }
}
