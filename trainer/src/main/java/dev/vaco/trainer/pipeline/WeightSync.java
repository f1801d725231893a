package dev.vaco.trainer.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.trainer.config.PipelineConfig;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * Verified weight sync: the learner's weights are staged on the rollout servers (resident, sampling nothing), canary
 * prompts scored there against the staged version and by the learner must agree, and only then is the version made
 * live everywhere. A push that disagrees is dropped everywhere (it never samples a token, and the ledger says so) and
 * the servers keep the last verified version: the push is "rolled back" before it was ever live.
 *
 * <p>Everything between "the learner has new weights" and "the servers sample with them" lives here: a rollout fleet's
 * weight distribution and a LoRA run's adapter-only push change this class and not the run.
 */
final class WeightSync {
    /** A held-out prompt and its reference completion, scored token by token on both sides after each push. */
    record Canary(int[] prompt, int[] completion) {}

    private final RolloutCoordinator coord;
    private final TorchPolicy policy;
    private final List<Canary> canaries;
    private final PipelineConfig pc;
    private final float temperature;
    private final PrintStream out;
    /** The version the servers sample with, the last the canaries accepted. */
    private long verifiedVersion;
    /** A LoRA run on servers with LoRA inputs of its rank: pushes carry the adapter alone ({@link #pushed}). */
    private boolean adapterPushes;

    WeightSync(RolloutCoordinator coord, TorchPolicy policy, List<Canary> canaries, PipelineConfig pc, double temperature,
               PrintStream out) {
        this.coord = coord;
        this.policy = policy;
        this.canaries = canaries;
        this.pc = pc;
        this.temperature = (float) temperature;
        this.out = out;
    }

    /** The first {@code n} held-out prompts that have a reference solution. */
    static List<Canary> canaries(List<Prompts.Prompt> heldOut, Prompts prompts, int n) {
        List<Canary> out = new ArrayList<>();
        for (Prompts.Prompt p : heldOut) {
            if (out.size() == n) break;
            if (p.problem().solution() != null) out.add(new Canary(p.ids(), prompts.completionIds(p.problem())));
        }
        return out;
    }

    /** The version the servers sample with: the last push the canaries accepted. */
    long verifiedVersion() {
        return verifiedVersion;
    }

    /** The run's starting weights, published without a canary check: they are what the servers compare against. */
    void publishStart(long version) throws InterruptedException {
        verifiedVersion = version;
        adapterPushes = serversTakeAdapters();
        if (adapterPushes) out.printf("LoRA: the servers have adapter inputs: pushes carry the adapter (r %d) alone%n", policy.lora().r());
        coord.publish(pushed(), version);
    }

    /**
     * Whether every server takes this run's adapter (its LoRA inputs have at least the run's rank); then pushes are
     * adapter-sized. Servers without them get merged weights, as any run's. A server that cannot be asked counts as no.
     */
    private boolean serversTakeAdapters() {
        if (policy.lora() == null || !policy.lora().enabled()) return false;
        for (PolicyClient s : coord.all()) {
            try {
                if (s.maxLoraRank() < policy.lora().r()) return false;
            } catch (Exception e) {
                return false;
            }
        }
        return !coord.all().isEmpty();
    }

    /**
     * What a push carries: the merged weights, or with {@link #adapterPushes} the adapter in PEFT's names with its
     * scaling folded into B (the server applies an adapter image with scaling 1: no settings travel with it).
     */
    private Weights pushed() {
        if (!adapterPushes) return policy.exportWeights();
        float s = (float) policy.lora().scaling();
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        policy.exportAdapter().forEach((name, t) -> {
            if (!name.contains(".lora_B.")) {
                out.put(name, t);
                return;
            }
            float[] v = t.toArray();
            for (int i = 0; i < v.length; i++) v[i] *= s;
            out.put(name, Tensor.of(name, t.shape(), v));
        });
        return Weights.ofAdapter(out);
    }

    /**
     * Stages the learner's weights as {@code version}, checks the canaries against the staged version and then makes
     * it live ({@code sync/*} metrics into {@code m}). {@code corrupt}: fault injection for tests, the pushed weights
     * differ from the learner's.
     *
     * @return the version the servers now sample with: {@code version}, or {@code version + 1} after a rejected push
     */
    long push(long version, boolean corrupt, Map<String, Double> m) throws Exception {
        Weights w = pushed();
        long v = version;
        record(coord.stage(corrupt ? corrupt(w) : w, v), m);
        CanaryCheck check = canaryMismatch(v);
        check.record(m, "");
        if (check.refused()) {
            // Drop it everywhere (the servers still sample with the last verified version), then stage once more under
            // a fresh number (a version number is never reused); a second mismatch is an engine bug: stop loudly.
            coord.drop(v);
            m.put("sync/rolled_back", 1.0);
            out.printf("push of version %d dropped before going live (the servers keep %d): canary mismatch %.2e > %.1e;"
                    + " pushing again as %d%n", v, verifiedVersion, check.worstOver(), check.threshold(), v + 1);
            v++;
            record(coord.stage(w, v), m);
            CanaryCheck again = canaryMismatch(v);
            again.record(m, "_retry");
            if (again.refused()) {
                coord.drop(v);
                throw new IllegalStateException("the servers' log-probs differ from the learner's by " + again.worstOver()
                        + " after a fresh push of version " + v + ": the inference engine and the trainer disagree");
            }
        }
        coord.activate(v, w);
        verifiedVersion = v;
        return v;
    }

    /** The push's cost: server swap time, the trainer's bytes sent (one image, plus fallbacks) and time to all staged. */
    private static void record(WeightRelay.Report r, Map<String, Double> m) {
        m.put("sync/push_s", r.swapSeconds());
        m.merge("sync/bytes_sent", (double) r.bytesSent(), Double::sum);
        m.merge("sync/relay_s", r.seconds(), Double::sum);
        if (r.fallbacks() > 0) m.merge("sync/relay_fallbacks", (double) r.fallbacks(), Double::sum);
    }

    /**
     * The canaries at one staged version. {@code maxAbs}: largest |server - learner| log-prob over every server and
     * canary token; {@code meanAbs}: its mean over tokens and servers (with quantized servers, the precision gap at the
     * same version: no lag in it). A server refuses the push when its own largest difference exceeds its threshold
     * ({@link PipelineConfig#canaryThreshold(String)} of the quantization it reports): {@code worstOver} and
     * {@code threshold} are those of the server furthest over (or nearest to) its threshold.
     */
    private record CanaryCheck(double maxAbs, double meanAbs, double worstOver, double threshold) {
        boolean refused() {
            return worstOver > threshold;
        }

        void record(Map<String, Double> m, String suffix) {
            m.put("sync/canary_max_abs" + suffix, maxAbs);
            m.put("sync/canary_mean_abs" + suffix, meanAbs);
        }
    }

    /** The canaries scored on every server holding the staged {@code version}, against the learner. */
    private CanaryCheck canaryMismatch(long version) throws InterruptedException {
        if (canaries.isEmpty()) return new CanaryCheck(0, 0, 0, pc.canaryThreshold());
        List<float[]> learner = new ArrayList<>();
        for (Canary c : canaries) learner.add(learnerLogprobs(c));
        double maxAbs = 0, sum = 0, ratio = -1, worst = 0, threshold = pc.canaryThreshold();
        long n = 0;
        for (PolicyClient server : coord.staged(version)) {
            double serverMax = 0, serverThreshold;
            try {
                serverThreshold = pc.canaryThreshold(server.quantization());
                for (int k = 0; k < canaries.size(); k++) {
                    Canary c = canaries.get(k);
                    // tracked: a server that freezes now fails this call when its health probes mark it down
                    float[] served = coord.tracked(server, server.score(c.prompt(), c.completion(), temperature, version)).join();
                    for (int i = 0; i < served.length; i++) {
                        double d = Math.abs(served[i] - learner.get(k)[i]);
                        serverMax = Math.max(serverMax, d);
                        sum += d;
                        n++;
                    }
                }
            } catch (CompletionException | java.io.IOException e) {
                continue; // a server that died or froze since the push: the coordinator's health check takes it out
            }
            maxAbs = Math.max(maxAbs, serverMax);
            if (serverMax / serverThreshold > ratio) {
                ratio = serverMax / serverThreshold;
                worst = serverMax;
                threshold = serverThreshold;
            }
        }
        return new CanaryCheck(maxAbs, n == 0 ? 0 : sum / n, worst, threshold);
    }

    private float[] learnerLogprobs(Canary c) {
        int p = c.prompt().length, n = p + c.completion().length - 1;
        int[] tokens = new int[n], targets = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = i < p ? c.prompt()[i] : c.completion()[i - p];
            targets[i] = i + 1 < p ? c.prompt()[i + 1] : c.completion()[i + 1 - p];
        }
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            NDArray t = m.create(tokens, new Shape(1, n));
            NDArray y = m.create(targets, new Shape(1, n));
            float[] all = policy.tokenLogProbs(t, y, temperature).toFloatArray();
            float[] out = new float[c.completion().length];
            System.arraycopy(all, p - 1, out, 0, out.length);
            return out;
        }
    }

    /** Fault injection for tests: the pushed weights differ from the learner's. */
    private static Weights corrupt(Weights w) {
        Weights c = w.copy();
        if (c.isAdapter()) { // B may still be zero: shift it rather than scale it
            Tensor b = c.tensors().stream().filter(t -> t.name().contains(".lora_B.")).findFirst().orElseThrow();
            for (int i = 0; i < b.numel(); i++) b.data().put(i, b.get(i) + 0.05f);
            return c;
        }
        Tensor norm = c.get("model.norm.weight");
        for (int i = 0; i < norm.numel(); i++) norm.data().put(i, norm.get(i) * 1.5f);
        return c;
    }
}
