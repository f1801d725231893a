package dev.vaco.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A short {@code vaco train} in its own JVM (tiny built-in model, embedded server), its output in {@code NAME.log}. */
final class TrainProcess implements AutoCloseable {
    private static final Pattern STEP = Pattern.compile("^\\{\"step\":(\\d+),");

    final Process process;
    final Path run, log;

    TrainProcess(Path dir, String name, String... overrides) throws IOException {
        this.run = dir.resolve(name);
        this.log = dir.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "dev.vaco.cli.VacoCommand", "train",
                "run.out_dir=" + run, "run.eval_every=5", "run.eval_problems=8", "run.checkpoint_every=0",
                "sft.steps=2", "sft.warmup_steps=1", "sft.batch_size=4", "rollout.prompts_per_step=3", "rollout.group_size=4",
                "rollout.max_tokens=16", "optim.warmup_steps=0", "pipeline.canary_prompts=1"));
        cmd.addAll(Arrays.asList(overrides));
        this.process = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The first group of the first output line matching {@code regex}, waiting up to {@code seconds}. */
    String await(String regex, int seconds) throws Exception {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (String l : Files.readAllLines(log)) {
                Matcher m = p.matcher(l);
                if (m.find()) return m.group(1);
            }
            if (!process.isAlive()) break;
            Thread.sleep(100);
        }
        throw new AssertionError("no line matching " + regex + " in " + seconds + " s:\n" + Files.readString(log));
    }

    /** The learner steps in metrics.jsonl so far (evaluation lines aside). */
    List<Integer> steps() throws IOException {
        return steps(run);
    }

    /** The learner steps in {@code run}'s metrics.jsonl (evaluation lines aside). */
    static List<Integer> steps(Path run) throws IOException {
        Path f = run.resolve("metrics.jsonl");
        List<Integer> out = new ArrayList<>();
        if (!Files.exists(f)) return out;
        for (String l : Files.readAllLines(f)) {
            Matcher m = STEP.matcher(l);
            if (m.find() && !l.contains("\"eval/accuracy\"")) out.add(Integer.parseInt(m.group(1)));
        }
        return out;
    }

    /** Waits until metrics.jsonl holds {@code n} learner steps. */
    void awaitSteps(int n, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (steps().size() < n) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("fewer than " + n + " steps:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) process.destroy();
        if (!process.waitFor(2, TimeUnit.MINUTES)) process.destroyForcibly();
    }
}
