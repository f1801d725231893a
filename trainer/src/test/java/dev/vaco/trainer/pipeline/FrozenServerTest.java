package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.Problem;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server that stops answering (what SIGSTOP looks like from the trainer: connections accepted, nothing answered) is
 * marked down by its missed health probes, its requests in flight fail at once and their groups are sampled on the
 * other server, and its late answers after the thaw are ignored: every group is scored once. Then it is probed back
 * up and takes load again. The freeze is a real proxy in front of a real server that holds every answer back.
 */
class FrozenServerTest {
    @TempDir Path dir;

    private static Server server(Path model, ModelDir.Loaded m) {
        return Server.start(model, m.config(), m.weights(), 0, new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(32, 256, 6, PolicyOptions.DEFAULT.withThreads(1)));
    }

    @Test
    @Timeout(180) // a request held by the frozen server would otherwise wait out its 10-minute timeout
    void aFrozenServerIsRoutedAroundItsLateAnswersIgnoredAndItComesBack() throws Exception {
        Path model = dir.resolve("model");
        ModelInit.initTiny(model, 1);
        ModelDir.Loaded m = ModelDir.load(model);
        AtomicBoolean frozen = new AtomicBoolean();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Problem p = new Problem("p", "1+1?", "2", null, "synthetic", "1", null);
        try (Server a = server(model, m); Server b = server(model, m);
             DelayingProxy proxy = new DelayingProxy(b.port(), (path, body) -> frozen.get(), () -> !frozen.get(), 600_000);
             PolicyClient ca = new PolicyClient(URI.create("http://127.0.0.1:" + a.port()), "tok");
             PolicyClient cb = new PolicyClient(URI.create("http://127.0.0.1:" + proxy.port()), "tok");
             Verifier verifier = new Verifier(VerifierConfig.strictDefaults());
             Ledger ledger = new Ledger(dir.resolve("ledger.jsonl"));
             RolloutCoordinator coord = new RolloutCoordinator(List.of(ca, cb), new RolloutCoordinator.Sampling(4, 1.0, 24),
                     verifier, ledger, new PrintStream(log, true))) {
            coord.publish(m.weights(), 1);
            frozen.set(true);
            long t0 = System.nanoTime();
            for (long g = 0; g < 8; g++) {
                ledger.admit(g, p, new int[] {1, 2}, 100 + g, null);
                coord.issue(new RolloutCoordinator.Group(g, p, new int[] {1, 2}, 100 + g, null, null));
            }
            List<RolloutCoordinator.Group> groups = coord.takeOldest(8);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(groups).extracting(RolloutCoordinator.Group::index).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
            assertThat(proxy.delayed()).as("answers the frozen server held back").isPositive();
            assertThat(log.toString()).as(log.toString()).contains("http://127.0.0.1:" + proxy.port() + "/ down (missed 2 health probes");
            assertThat(coord.healthyServers()).isEqualTo(1);
            System.out.printf("frozen server: 8 groups sampled in %.1f s, routed around after its missed probes%n", seconds);

            frozen.set(false); // the thaw: its held answers go out now, to calls already failed over
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (coord.healthyServers() < 2 && System.nanoTime() < end) Thread.sleep(50);
            assertThat(coord.healthyServers()).as(log.toString()).isEqualTo(2);
            assertThat(log.toString()).contains("/ up at version 1: takes load");
            Thread.sleep(1000);
            assertThat(coord.readyCount()).as("late answers are never a second copy").isZero();
            long scored = Files.readAllLines(dir.resolve("ledger.jsonl")).stream().filter(l -> l.contains("\"e\":\"scored\"")).count();
            assertThat(scored).as("scored lines, one per group").isEqualTo(8);
        }
    }
}
