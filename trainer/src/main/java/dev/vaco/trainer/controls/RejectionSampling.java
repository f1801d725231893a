package dev.vaco.trainer.controls;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.Prompts;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verifier;
import dev.vaco.trainer.StopRequest;
import dev.vaco.trainer.config.RolloutConfig;
import dev.vaco.trainer.eval.EvalRun;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rejection-sampling fine-tuning's data (RFT, Yuan et al. 2023; the simplest use of a verifier): the warm start samples
 * {@code rollout.group_size} answers to each answer-only training problem at the rollout temperature, and the answers
 * the strict verifier accepts, distinct per problem, become that problem's worked solutions. One round, from the warm
 * start only: what RL adds over it is learning from its own improving samples and from the wrong ones.
 */
public final class RejectionSampling {
    private RejectionSampling() {}

    /** Problems sampled per round: each round is one {@link EvalRun} whose samples are kept under {@code dir}. */
    static final int ROUND = 256;

    /** What sampling found: worked solutions made of verified samples, and how many problems and samples it took. */
    public record Collected(List<Problem> solutions, int problems, int samples, double seconds) {}

    /** Samples rounds of {@link #ROUND} problems from {@code problems} at {@code version} until {@code seconds} have passed (one at least). */
    public static Collected collect(PolicyClient server, long version, Verifier verifier, Iterator<Problem> problems,
                                    Prompts prompts, RolloutConfig rollout, long seed, double seconds, Path dir,
                                    PrintStream out) throws IOException, InterruptedException {
        return collect(server, version, verifier, problems, prompts, rollout, seed, seconds, ROUND, dir, out);
    }

    /** The same in rounds of {@code round} draws (a problem drawn twice in a round is sampled once). */
    static Collected collect(PolicyClient server, long version, Verifier verifier, Iterator<Problem> problems,
                             Prompts prompts, RolloutConfig rollout, long seed, double seconds, int round, Path dir,
                             PrintStream out) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        List<Problem> solutions = new ArrayList<>();
        int asked = 0, samples = 0;
        for (int r = 0; r == 0 || (System.nanoTime() - t0) / 1e9 < seconds && !StopRequest.requested(); r++) {
            Map<String, Problem> byId = new HashMap<>();
            List<Prompts.Prompt> batch = new ArrayList<>();
            for (int i = 0; i < round; i++) {
                Problem p = problems.next();
                if (byId.putIfAbsent(p.id(), p) == null) batch.add(prompts.build(p));
            }
            EvalRun.Config ec = new EvalRun.Config(rollout.groupSize(), rollout.temperature(), 1, rollout.maxTokens(),
                    seed + (long) r * round, version, 64, 10);
            Path roundDir = dir.resolve("round-" + r);
            new EvalRun(server, verifier, ec).run(batch, roundDir, null);
            Map<String, Set<String>> correct = new HashMap<>();
            for (String line : Files.readAllLines(roundDir.resolve("samples.jsonl"))) {
                JsonNode row = JSON.readTree(line);
                if (row.path("correct").asBoolean()) correct.computeIfAbsent(row.path("problem_id").asText(), k -> new LinkedHashSet<>())
                        .add(row.path("text").asText());
            }
            correct.forEach((id, texts) -> {
                Problem p = byId.get(id);
                for (String text : texts) {
                    solutions.add(new Problem(p.id(), p.question(), p.goldAnswer(), text, p.source(), p.level(), p.subject()));
                }
            });
            asked += batch.size();
            samples += batch.size() * rollout.groupSize();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        out.printf("rft: %d verified solutions from %d samples of %d problems (%.0f s)%n", solutions.size(), samples, asked, s);
        return new Collected(solutions, asked, samples, s);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
}
