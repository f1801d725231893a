package dev.vaco.trainer.controls;

import dev.vaco.datasets.Prompts;
import dev.vaco.learner.Telemetry;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verifier;
import dev.vaco.trainer.eval.EvalRun;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A control arm's evaluation, the same as the RL run's: the arm's current weights are pushed to an inference server
 * as a new version and the held-out problems decoded greedily at that version and judged by the strict verifier;
 * overall and per-level accuracy go to the arm's {@code metrics.jsonl} in the RL run's format.
 */
public final class HeldOutEval {
    /** One evaluation: when (minutes of the arm's training), overall accuracy with its 95% interval, and per level. */
    public record Point(int step, double minutes, double accuracy, double lower, double upper, Map<String, Double> byLevel) {}

    private final PolicyClient server;
    private final Verifier verifier;
    private final List<Prompts.Prompt> heldOut;
    private final int maxTokens;
    private long version;

    public HeldOutEval(PolicyClient server, Verifier verifier, List<Prompts.Prompt> heldOut, int maxTokens)
            throws IOException, InterruptedException {
        this.server = server;
        this.verifier = verifier;
        this.heldOut = heldOut;
        this.maxTokens = maxTokens;
        this.version = server.versions().highest();
    }

    /** The server's version that holds the weights last pushed (or, before any push, what it started with). */
    public long version() {
        return version;
    }

    /** Pushes {@code policy}'s weights as the next version and evaluates them; the line goes to {@code telemetry}. */
    public Point evaluate(TorchPolicy policy, int step, double minutes, Telemetry telemetry) throws IOException, InterruptedException {
        server.pushWeights(policy.exportWeights(), ++version);
        return evaluateLive(step, minutes, telemetry);
    }

    /** Evaluates the version the server holds now. */
    public Point evaluateLive(int step, double minutes, Telemetry telemetry) throws IOException, InterruptedException {
        EvalRun.Config ec = new EvalRun.Config(1, 0, 1, maxTokens, 0, version, 64, 200);
        EvalRun.Summary s = new EvalRun(server, verifier, ec).run(heldOut, null, null);
        var mean = s.scores().get(2).value();
        Map<String, Double> byLevel = s.byLevel();
        telemetry.eval(step, version, mean.estimate(), mean.lower(), mean.upper(), s.seconds(), byLevel);
        return new Point(step, minutes, mean.estimate(), mean.lower(), mean.upper(), byLevel);
    }
}
