package dev.vaco.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.PromptStyle;
import dev.vaco.datasets.Prompts;
import dev.vaco.learner.Telemetry;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.model.Tokenizer;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.controls.HeldOutEval;
import dev.vaco.trainer.controls.RejectionSampling;
import dev.vaco.trainer.controls.SupervisedControl;
import dev.vaco.trainer.experiment.SvgChart;
import dev.vaco.trainer.pipeline.DataCursor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The demo's two controls and its comparison. From the warm start that the RL run began with, the same training time
 * is spent on supervised learning instead: "sft" on the demonstrations ({@code sft.levels}), "rft" on the warm start's
 * own verified samples of the answer-only problems ({@code run.levels}; a quarter of the time sampling, the rest
 * training). Each arm is evaluated like the RL run (greedy, the same held-out problems, level by level) and writes
 * {@code controls/<arm>/metrics.jsonl}; the table and {@code arms.svg} put the three side by side.
 */
final class DemoArms {
    private DemoArms() {}

    /** Share of the RFT arm's time spent sampling the warm start (the rest trains on what it found). */
    static final double RFT_SAMPLING_SHARE = 0.25;
    /** Evaluations of each control after its start, at equal shares of its time. */
    static final int EVALUATIONS = 4;

    /** One arm's curve: minutes of training, overall accuracy, and per-level accuracy. */
    record Arm(String name, List<HeldOutEval.Point> curve) {
        HeldOutEval.Point last() {
            return curve.get(curve.size() - 1);
        }
    }

    /** Runs both controls for {@code seconds} each from {@code warmStart}; their directories go under {@code out/controls}. */
    static List<Arm> controls(TrainConfig cfg, Path warmStart, double seconds, double secondsPerStep, Path out,
                              PrintStream log) throws Exception {
        List<Arm> arms = new ArrayList<>();
        for (String name : List.of("sft", "rft")) arms.add(control(name, cfg, warmStart, seconds, secondsPerStep, out, log));
        return arms;
    }

    private static Arm control(String name, TrainConfig cfg, Path warmStart, double seconds, double secondsPerStep,
                               Path out, PrintStream log) throws Exception {
        Path dir = out.resolve("controls").resolve(name);
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("metrics.jsonl")); // a control is never resumed: it runs again whole
        ModelDir.Loaded m = ModelDir.load(warmStart);
        try (Tokenizer tok = Tokenizer.load(warmStart);
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults());
             NDManager root = Engines.pytorch(cfg.pipeline().learnerThreads()).newBaseManager();
             TorchPolicy policy = TorchPolicy.create(m.config(), m.weights());
             EmbeddedServer server = EmbeddedServer.start(warmStart, m, "demo-" + name, 2, cfg.pipeline().serverThreads());
             Telemetry telemetry = new Telemetry(dir.resolve("metrics.jsonl"), null)) {
            Prompts prompts = new Prompts(tok, null, PromptStyle.BUILT_IN, List.of());
            var run = cfg.run();
            List<Prompts.Prompt> heldOut = new ArrayList<>();
            for (Problem p : DataCursor.of(cfg, run.seed()).heldOut()) {
                heldOut.add(prompts.build(p));
            }
            HeldOutEval eval = new HeldOutEval(server.client(), verifier, heldOut, cfg.rollout().maxTokens());
            Iterator<Problem> examples;
            double training = seconds, offset = 0;
            if (name.equals("sft")) {
                // more of the demonstrations: when they are limited, the warm start's own, in a new order
                long sftSeed = cfg.sft().seedOr(run.seed());
                examples = cfg.sft().demonstrations() > 0 ? DataCursor.cycle(DataCursor.demonstrationPool(cfg), sftSeed + 1)
                        : DataCursor.synthetic(sftSeed + 1, cfg.sftMix(), 1).train();
            } else {
                Iterator<Problem> answerOnly = DataCursor.synthetic(run.seed(), run.levelMix(), 1)
                        .excluding(DataCursor.demonstratedQuestions(cfg)).train();
                var found = RejectionSampling.collect(server.client(), eval.version(), verifier, answerOnly, prompts,
                        cfg.rollout(), run.seed(), seconds * RFT_SAMPLING_SHARE, dir.resolve("samples"), log);
                double sampled = found.seconds();
                // nothing to train on yet: go on looking, a round at a time, while the budget lasts
                for (int more = 1; found.solutions().isEmpty() && sampled < seconds && !dev.vaco.trainer.StopRequest.requested(); more++) {
                    found = RejectionSampling.collect(server.client(), eval.version(), verifier, answerOnly, prompts,
                            cfg.rollout(), run.seed() + 7919L * more, 0, dir.resolve("samples-" + more), log);
                    sampled += found.seconds();
                }
                if (found.solutions().isEmpty()) {
                    log.println("rft: no verified sample in its whole budget: the arm stays at the warm start");
                    return new Arm(name, List.of(eval.evaluateLive(0, sampled / 60, telemetry)));
                }
                offset = sampled;
                training = Math.max(0, seconds - sampled);
                examples = DataCursor.cycle(found.solutions(), run.seed());
            }
            SupervisedControl.Result r = SupervisedControl.train(name, policy, root, cfg, examples, prompts, offset,
                    training, secondsPerStep, eval, EVALUATIONS, telemetry, log);
            return new Arm(name, r.curve());
        }
    }

    /**
     * The RL run's evaluations from its metrics.jsonl, x = minutes of RL since its first evaluation, its evaluations
     * left out (as the controls' are); {@link Arm#seconds} is then the RL run's training time, the controls' budget.
     */
    static Arm rl(String name, Path metrics) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<HeldOutEval.Point> curve = new ArrayList<>();
        double origin = Double.NaN, elapsed = 0, evals = 0;
        for (String line : Files.readAllLines(metrics)) {
            if (line.isBlank()) continue;
            JsonNode j = json.readTree(line);
            if (j.has("pipeline/elapsed_s")) {
                elapsed = j.get("pipeline/elapsed_s").asDouble();
                if (Double.isNaN(origin)) origin = elapsed - j.path("time_s").asDouble();
            }
            if (!j.has("eval/accuracy")) continue;
            Map<String, Double> byLevel = new TreeMap<>();
            j.fieldNames().forEachRemaining(k -> {
                if (k.startsWith("eval/level_")) byLevel.put(k.substring(11, k.indexOf('/', 11)), j.get(k).asDouble());
            });
            double minutes = Double.isNaN(origin) ? 0 : (elapsed - origin - evals) / 60;
            if (!Double.isNaN(origin)) evals += j.path("time_s").asDouble();
            curve.add(new HeldOutEval.Point(j.path("step").asInt(), minutes, j.path("eval/accuracy").asDouble(),
                    j.path("eval/ci_low").asDouble(), j.path("eval/ci_high").asDouble(), byLevel));
        }
        return new Arm(name, curve);
    }

    /** Training minutes of an arm: its last evaluation's x. */
    static double seconds(Arm arm) {
        return 60 * arm.last().minutes();
    }

    /** Mean accuracy over {@code levels} at an evaluation (the levels have equal counts of held-out problems). */
    static double mean(HeldOutEval.Point p, List<String> levels) {
        return levels.stream().mapToDouble(l -> p.byLevel().getOrDefault(l, Double.NaN)).average().orElse(Double.NaN);
    }

    /**
     * The side-by-side table (each level, then the demonstrated and answer-only means) of the start and each arm's
     * end, printed and written as {@code arms.json}; {@code arms.svg}: both means against minutes of training.
     */
    static void report(List<Arm> arms, List<String> demonstrated, List<String> answerOnly, Path out, PrintStream log)
            throws IOException {
        // the same levels on both sides when the demonstrations are a limited set of RL's own problems
        var distinct = new java.util.LinkedHashSet<>(demonstrated);
        distinct.addAll(answerOnly);
        List<String> levels = new ArrayList<>(distinct);
        StringBuilder head = new StringBuilder(String.format("%-28s", "arm"));
        for (String l : levels) head.append(String.format("%8s", "L" + l));
        head.append(String.format("  %13s %12s %8s", "demonstrated", "answer-only", "minutes"));
        log.println(head);
        var json = new ObjectMapper().createArrayNode();
        List<String> rows = new ArrayList<>(List.of("warm start"));
        List<HeldOutEval.Point> points = new ArrayList<>(List.of(arms.get(0).curve().get(0)));
        for (Arm a : arms) {
            rows.add(a.name());
            points.add(a.last());
        }
        for (int i = 0; i < rows.size(); i++) {
            HeldOutEval.Point p = points.get(i);
            StringBuilder row = new StringBuilder(String.format("%-28s", rows.get(i)));
            var o = json.addObject().put("arm", rows.get(i)).put("minutes", p.minutes()).put("accuracy", p.accuracy());
            for (String l : levels) {
                double v = p.byLevel().getOrDefault(l, Double.NaN);
                row.append(String.format(Locale.ROOT, "%7.1f%%", 100 * v));
                o.put("level_" + l, v);
            }
            double d = mean(p, demonstrated), a = mean(p, answerOnly);
            o.put("demonstrated", d).put("answer_only", a);
            row.append(String.format(Locale.ROOT, "  %12.1f%% %11.1f%% %8.1f", 100 * d, 100 * a, p.minutes()));
            log.println(row);
        }
        Files.writeString(out.resolve("arms.json"), json.toPrettyString() + "\n");
        String svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"300\" font-family=\"sans-serif\" font-size=\"11\">\n"
                + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                + panel("answer-only levels (RL's problems, no worked solutions)", arms, answerOnly).replaceFirst("<svg ", "<svg x=\"0\" y=\"0\" ")
                + panel("demonstrated levels (the warm start's)", arms, demonstrated).replaceFirst("<svg ", "<svg x=\"500\" y=\"0\" ")
                + "</svg>\n";
        Files.writeString(out.resolve("arms.svg"), svg);
    }

    private static String panel(String title, List<Arm> arms, List<String> levels) {
        SvgChart chart = new SvgChart("held-out accuracy, " + title, "minutes of training", "accuracy", false);
        for (Arm a : arms) for (HeldOutEval.Point p : a.curve()) chart.add(a.name(), p.minutes(), mean(p, levels), 0);
        return chart.render(500, 300);
    }
}
