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
 * with SIGKILL mid-run, and resumed; the ledger must show every admitted group trained exactly once. And the polite
 * end of a job (SIGTERM from a scheduler, Ctrl-C): a checkpoint at the step it was on, a clean exit, a resume.
 */
class KillAndResumeTest {
    @TempDir Path dir;

    private Process vaco(Path run, Path log, boolean resume) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "dev.vaco.cli.VacoCommand", "train",
                "run.out_dir=" + run, "run.steps=10", "run.checkpoint_every=1", "run.eval_every=0", "run.eval_problems=4",
                "sft.steps=2", "sft.warmup_steps=1", "sft.batch_size=4", "rollout.prompts_per_step=3", "rollout.group_size=4",
                "rollout.max_tokens=16", "rollout.max_staleness=2", "optim.warmup_steps=0", "pipeline.canary_prompts=1"));
        if (resume) cmd.add("--resume");
        // the test directory is the working directory: a JVM crash would leave its hs_err file there
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long steps(Path metrics) throws Exception {
        if (!Files.exists(metrics)) return 0;
        return Files.readAllLines(metrics).stream().filter(l -> l.contains("\"reward/mean\"")).count();
    }

    /** A fresh run (log: first.log), still running once {@code steps} steps are in its metrics. */
    private Process startAndWait(Path run, int steps) throws Exception {
        Process p = vaco(run, dir.resolve("first.log"), false);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (steps(run.resolve("metrics.jsonl")) < steps && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(p.isAlive()).as(Files.readString(dir.resolve("first.log"))).isTrue();
        return p;
    }

    @Test
    void killNineThenResumeTrainsEveryAdmittedGroupExactlyOnce() throws Exception {
        Path run = dir.resolve("run"), metrics = run.resolve("metrics.jsonl");
        Process p = startAndWait(run, 4);
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

    @Test
    void sigtermCheckpointsTheCurrentStepExitsCleanlyAndResumeFinishes() throws Exception {
        Path run = dir.resolve("run"), metrics = run.resolve("metrics.jsonl");
        Process p = startAndWait(run, 3);
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        String log = Files.readString(dir.resolve("first.log"));
        // before: libtorch's static destructors ran under a backward pass, SIGSEGV and exit 134
        assertThat(p.exitValue()).as(log).isEqualTo(143);
        assertThat(log).contains("stopped at step").doesNotContain("SIGSEGV");
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
        }
        long done = steps(metrics);
        assertThat(done).isBetween(3L, 9L);
        assertThat(dev.vaco.learner.Checkpoint.latest(run).getFileName().toString()).isEqualTo("step-" + done);
        // the demo's default directory is kept, and a second demo goes beside it
        assertThat(DemoCommand.freeDirectory(run)).isEqualTo(dir.resolve("run-2"));

        Process again = vaco(run, dir.resolve("again.log"), false); // no --resume: refused, the run untouched
        assertThat(again.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(again.exitValue()).isEqualTo(2);
        assertThat(Files.readString(dir.resolve("again.log"))).contains("already holds a run").contains("--resume");
        assertThat(steps(metrics)).isEqualTo(done);

        Process r = vaco(run, dir.resolve("second.log"), true);
        assertThat(r.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(r.exitValue()).as(Files.readString(dir.resolve("second.log"))).isZero();
        Map<Long, Integer> counts = Ledger.trainedCounts(run.resolve("ledger.jsonl"));
        assertThat(counts).hasSize(30);
        assertThat(counts.values()).containsOnly(1);
    }
}
