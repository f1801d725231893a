package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.trainer.dashboard.DashboardServer;
import dev.vaco.trainer.dashboard.RunDirs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real browser: Debian's headless chromium driven by playwright-core ({@code src/test/node},
 * installed by {@code npm ci} in .ci/run; the browser by apt there). A {@code vaco train --dashboard-port 0} JVM runs;
 * its page loads with no console error and draws every step written so far; each new learner step is drawn within
 * 2 s of its line reaching metrics.jsonl (this test polls the file every 10 ms); then {@code vaco dashboard} over that
 * run and a second finished one draws both. Screenshots: {@code target/dashboard-*.png}. Skips, saying why, without
 * chromium, node or the npm packages.
 */
class DashboardBrowserTest {
    static final Path NODE = Path.of("src/test/node").toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;

    static Path chromium() {
        return Path.of(System.getenv().getOrDefault("VACO_CHROMIUM", "/usr/bin/chromium"));
    }

    static void assumeBrowser() throws Exception {
        assumeTrue(Files.isExecutable(chromium()), "chromium is not installed (" + chromium() + "): .ci/run installs Debian's chromium");
        assumeTrue(Files.isDirectory(NODE.resolve("node_modules/playwright-core")),
                "playwright-core is not installed: run `npm ci --prefix cli/src/test/node`");
        assumeTrue(new ProcessBuilder("node", "--version").start().waitFor() == 0, "node is not on PATH");
    }

    /** Runs the node script; returns its JSON lines (the last one: {"event": "done", "errors": [...]}). */
    static List<JsonNode> browse(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("node", NODE.resolve("dashboard-check.mjs").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : out.lines().toList()) if (l.startsWith("{")) lines.add(JSON.readTree(l));
        assertThat(lines).as(out).isNotEmpty();
        JsonNode done = lines.get(lines.size() - 1);
        assertThat(done.get("event").asText()).as(out).isEqualTo("done");
        assertThat(done.get("errors")).as("console and page errors").isEmpty();
        return lines;
    }

    static List<Integer> ints(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asInt()));
        return out;
    }

    @Test
    void theLivePageFollowsTheRunAndTheDashboardCommandOverlaysTwoRuns() throws Exception {
        assumeBrowser();
        Path shots = Files.createDirectories(Path.of("target").toAbsolutePath());
        Map<Integer, Long> written = new ConcurrentHashMap<>();
        try (TrainProcess live = new TrainProcess(dir, "live", "run.steps=400", "rollout.max_staleness=2", "--dashboard-port", "0")) {
            String url = live.await("dashboard: (http://\\S+)", 120);
            live.awaitSteps(3, 240);
            // when each step's line reached the file, as seen from here
            Thread watcher = new Thread(() -> {
                try {
                    while (live.process.isAlive()) {
                        long now = System.currentTimeMillis();
                        for (int s : live.steps()) written.putIfAbsent(s, now);
                        Thread.sleep(10);
                    }
                } catch (Exception e) {
                    // the run ended
                }
            });
            watcher.setDaemon(true);
            watcher.start();
            Thread.sleep(100);
            long opened = System.currentTimeMillis();
            int stepsBefore = live.steps().size();
            List<JsonNode> out = browse("live", url, shots.toString(), "20");
            JsonNode loaded = out.get(0);
            List<Integer> drawn = ints(loaded.get("reward").get("live"));
            assertThat(drawn.size()).as("steps drawn at load").isGreaterThanOrEqualTo(stepsBefore);
            for (int i = 0; i < drawn.size(); i++) assertThat(drawn.get(i)).isEqualTo(i + 1);
            assertThat(ints(loaded.get("accuracy").get("live"))).as("evaluations drawn").startsWith(0);
            assertThat(loaded.get("servers")).hasSize(1);
            assertThat(loaded.get("servers").get(0).asText()).contains("in rotation");
            assertThat(loaded.get("admission").asText()).contains("staleness bound η = 2");

            // every step written after the page had loaded was drawn, each within 2 s of reaching the file (a step
            // written while chromium started and the page loaded waits for the load, which is not what is measured)
            long watching = Math.max(opened, loaded.get("at").asLong());
            JsonNode watched = out.get(1);
            List<Long> delays = new ArrayList<>();
            for (int s : ints(watched.get("reward").get("live"))) {
                Long w = written.get(s);
                if (w == null || w < watching) continue;
                JsonNode stamp = watched.get("plottedAt").get("live/" + s);
                assertThat(stamp).as("step %d is drawn but the page has no time for it: %s", s, watched.get("plottedAt")).isNotNull();
                long at = stamp.asLong();
                delays.add(at - w);
                assertThat(at - w).as("ms from step %d written to drawn", s).isLessThanOrEqualTo(2000);
            }
            assertThat(delays).as("new steps drawn while watching").hasSizeGreaterThanOrEqualTo(3);
            System.out.println("dashboard: new steps drawn " + delays + " ms after their line was written");
        }
        try (TrainProcess other = new TrainProcess(dir, "other", "run.steps=4", "rollout.max_staleness=0", "run.seed=1")) {
            assertThat(other.process.waitFor(5, TimeUnit.MINUTES)).isTrue();
            assertThat(other.process.exitValue()).as(Files.readString(other.log)).isZero();
        }
        Path a = dir.resolve("live"), b = dir.resolve("other");
        try (DashboardServer s = DashboardServer.over("127.0.0.1", 0, RunDirs.of(List.of(a, b)))) {
            JsonNode loaded = browse("compare", s.url(), shots.toString()).get(0);
            assertThat(loaded.get("title").asText()).isEqualTo("vaco · live vs other");
            assertThat(ints(loaded.get("reward").get("live"))).isEqualTo(TrainProcess.steps(a));
            assertThat(ints(loaded.get("reward").get("other"))).isEqualTo(TrainProcess.steps(b)).containsExactly(1, 2, 3, 4);
        }
    }
}
