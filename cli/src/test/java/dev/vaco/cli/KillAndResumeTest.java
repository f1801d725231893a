package dev.vaco.cli;

import dev.vaco.trainer.pipeline.Ledger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exactly-once promise under a real crash: the trainer runs in its own JVM (with its embedded server), is killed
 * with SIGKILL mid-run, and resumed; the ledger must show every admitted group trained exactly once.
 */
class KillAndResumeTest {
    @TempDir Path dir;

    private Process vaco(Path run, Path log, boolean resume) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "dev.vaco.cli.Vaco", "train",
                "run.out_dir=" + run, "run.steps=10", "run.checkpoint_every=1", "run.eval_every=0", "run.eval_problems=4",
                "sft.steps=2", "sft.warmup_steps=1", "sft.batch_size=4", "rollout.prompts_per_step=3", "rollout.group_size=4",
                "rollout.max_tokens=16", "rollout.max_staleness=2", "optim.warmup_steps=0", "pipeline.canary_prompts=1"));
        if (resume) cmd.add("--resume");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long steps(Path metrics) throws Exception {
        if (!Files.exists(metrics)) return 0;
        return Files.readAllLines(metrics).stream().filter(l -> l.contains("\"reward/mean\"")).count();
    }

    @Test
    void killNineThenResumeTrainsEveryAdmittedGroupExactlyOnce() throws Exception {
        Path run = dir.resolve("run"), metrics = run.resolve("metrics.jsonl");
        Process p = vaco(run, dir.resolve("first.log"), false);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (steps(metrics) < 4 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(p.isAlive()).as(Files.readString(dir.resolve("first.log"))).isTrue();
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no flushing
        p.waitFor();
        long before = steps(metrics);
        assertThat(before).isBetween(4L, 9L);

        Process r = vaco(run, dir.resolve("second.log"), true);
        assertThat(r.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String log = Files.readString(dir.resolve("second.log"));
        assertThat(r.exitValue()).as(log).isZero();
        assertThat(log).contains("resumed from");

        Map<Long, Integer> counts = Ledger.trainedCounts(run.resolve("ledger.jsonl"));
        assertThat(counts).as("groups admitted").hasSize(30); // 10 steps x 3 groups, none lost
        assertThat(counts.values()).as("times each admitted group was trained").containsOnly(1);
    }
}
