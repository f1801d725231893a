package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo's shape, shortened: `vaco demo` in its own JVM trains the warm start once, runs RL and both controls from it
 * for the same training time, and prints and writes the three arms side by side, level by level.
 */
class DemoCommandTest {
    @TempDir Path dir;

    @Test
    void theDemoRunsRlAndBothControlsFromOneWarmStartForTheSameTime() throws Exception {
        Path out = dir.resolve("demo"), log = dir.resolve("demo.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "dev.vaco.cli.VacoCommand", "demo",
                "--minutes", "1.6", "--out", out.toString(), "--dashboard-port", "-1",
                "sft.steps=30", "sft.warmup_steps=2", "sft.target_loss=0", "run.eval_problems=40", "run.eval_every=3",
                "rollout.prompts_per_step=4", "rollout.group_size=4", "pipeline.canary_prompts=1"));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(6, TimeUnit.MINUTES)).as("the demo did not end").isTrue();
        String text = Files.readString(log);
        assertThat(p.exitValue()).as(text).isZero();

        JsonNode arms = new ObjectMapper().readTree(out.resolve("arms.json").toFile());
        assertThat(arms).hasSize(4);
        assertThat(arms.get(0).path("arm").asText()).isEqualTo("warm start");
        assertThat(arms.get(1).path("arm").asText()).startsWith("VACO");
        assertThat(arms.get(2).path("arm").asText()).startsWith("SFT");
        assertThat(arms.get(3).path("arm").asText()).startsWith("RFT");
        for (JsonNode a : arms) {
            // the demonstrated levels (6, 7) and the answer-only ones (1, 2), 10 held-out problems each
            for (String l : List.of("1", "2", "6", "7")) assertThat(a.path("level_" + l).isNumber()).as(a.toString()).isTrue();
            assertThat(a.path("answer_only").asDouble())
                    .isEqualTo((a.path("level_1").asDouble() + a.path("level_2").asDouble()) / 2, org.assertj.core.data.Offset.offset(1e-9));
        }
        // the controls train as long as RL did (a step of overshoot at most), from the one warm start
        double rl = arms.get(1).path("minutes").asDouble();
        assertThat(rl).isPositive();
        for (int i = 2; i < 4; i++) assertThat(arms.get(i).path("minutes").asDouble()).as(arms + "\n" + text).isBetween(rl, rl + 0.1);
        assertThat(out.resolve("warm-start/warm-start.json")).exists();
        assertThat(text).containsOnlyOnce("warm start: 30 steps");
        assertThat(Files.readAllLines(out.resolve("controls/sft/metrics.jsonl"))).hasSize(1 + DemoArms.EVALUATIONS);
        // a 30-step warm start rarely answers right: then RFT looks for a verified sample all its time and stays put
        boolean none = text.contains("no verified sample in its whole budget");
        assertThat(Files.readAllLines(out.resolve("controls/rft/metrics.jsonl"))).hasSize(none ? 1 : 1 + DemoArms.EVALUATIONS);
        assertThat(out.resolve("controls/rft/samples/round-0/samples.jsonl")).exists();
        assertThat(Files.readString(out.resolve("arms.svg"))).startsWith("<svg").contains("answer-only").contains("RFT");
        assertThat(text).contains("answer-only").contains("SFT (all demonstrations)").contains("RFT (verified samples)");
    }
}
