package dev.vaco.trainer.pipeline;

import dev.vaco.fleet.ClusterConfig;
import dev.vaco.fleet.ClusterNode;
import dev.vaco.fleet.ClusterPorts;
import dev.vaco.fleet.FleetView;
import dev.vaco.fleet.ServerAnnouncement;
import dev.vaco.fleet.ServerAnnouncer;
import dev.vaco.learner.Rollout;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An RL run that takes its servers from a cluster (real Hazelcast members on loopback, real inference servers): two
 * servers at the start, a third joining mid-run (it gets the live weights before it samples), one of the first two
 * crashing mid-run (its groups fail over); every admitted group is trained exactly once.
 */
@Timeout(400)
class FleetRunTest {
    @TempDir Path dir;
    private final List<AutoCloseable> open = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }


    /** A server announced by its own member of {@code cluster} (joining through {@code seed}); the member is returned. */
    private ClusterNode announced(Server s, String cluster, int seed) throws IOException {
        ClusterNode n = ClusterNode.join(ClusterConfig.tcp(cluster, "127.0.0.1", ClusterPorts.free(), "127.0.0.1:" + seed));
        open.add(n);
        String url = "http://127.0.0.1:" + s.port();
        open.add(ServerAnnouncer.start(n, () -> new ServerAnnouncement(n.nodeId(), url, "tiny", 32,
                s.engine().liveVersion(), s.engine().residentVersions())));
        return n;
    }

    private Server server(Path model, ModelDir.Loaded m) {
        Server s = Server.start(model, m.config(), m.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(32, 256, 6, PolicyOptions.DEFAULT.withThreads(1)));
        open.add(s);
        return s;
    }

    private static long stepsWritten(Path run) throws IOException {
        Path metrics = run.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) return 0;
        return Files.readAllLines(metrics).stream().filter(l -> l.contains("\"reward/mean\"")).count();
    }

    private static void awaitSteps(Path run, long n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (stepsWritten(run) < n && System.nanoTime() < deadline) Thread.sleep(50);
    }

    @Test
    void runFollowsServersJoiningAndCrashing() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelInit.initTiny(model, 1);
        int seed = ClusterPorts.free();
        ClusterNode trainerNode = ClusterNode.join(ClusterConfig.tcp("run-test", "127.0.0.1", seed, ""));
        open.add(trainerNode);
        FleetView fleet = FleetView.open(trainerNode);
        open.add(fleet);
        Server s1 = server(model, m), s2 = server(model, m);
        announced(s1, "run-test", seed);
        ClusterNode n2 = announced(s2, "run-test", seed);

        List<PolicyClient> first = new ArrayList<>();
        for (ServerAnnouncement a : fleet.awaitServers(2, Duration.ofSeconds(60))) {
            first.add(new PolicyClient(URI.create(a.url()), "tok"));
        }
        Path run = dir.resolve("run");
        TrainConfig cfg = ConfigLoader.load(List.of("run.out_dir=" + run, "run.steps=12", "run.eval_every=0",
                "run.checkpoint_every=4", "run.eval_problems=8", "sft.steps=3", "sft.warmup_steps=1", "sft.batch_size=4",
                "rollout.prompts_per_step=4", "rollout.group_size=4", "rollout.max_tokens=12", "optim.warmup_steps=0",
                "optim.lr=1e-3", "pipeline.canary_prompts=2", "rollout.max_staleness=1"));
        RlTrainer trainer = new RlTrainer(cfg, model, first, new PrintStream(new ByteArrayOutputStream(), true))
                .following(fleet, "tok", null);
        // the run stays on this thread, where the PyTorch engine was loaded (its grad mode is per thread, as in the
        // CLI); the cluster changes happen beside it
        Server[] joiner = new Server[1];
        CompletableFuture<Void> changes = CompletableFuture.runAsync(() -> {
            try {
                // a joiner is seen 1-2 s after it starts (Hazelcast join + announcement) and then first brought to the
                // live version: early enough that admission still has groups for it in a 12-step run of the tiny model
                awaitSteps(run, 2);
                joiner[0] = server(model, m); // serves its own version 0 until the run brings it up to date
                announced(joiner[0], "run-test", seed);
                awaitSteps(run, 8);
                n2.hazelcast().getLifecycleService().terminate(); // the member dies with its server
                s2.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        RlTrainer.Result r = trainer.run(false);
        changes.get();
        Server s3 = joiner[0];
        first.forEach(PolicyClient::close);
        assertThat(r.steps()).isEqualTo(12);
        assertThat(s3.metrics().requests.sum()).as("the server that joined mid-run took load").isPositive();
        assertThat(s3.engine().liveVersion()).isEqualTo(s1.engine().liveVersion());
        Map<Long, Ledger.Entry> ledger = Ledger.replay(run.resolve("ledger.jsonl"));
        for (Ledger.Entry e : ledger.values()) {
            assertThat(e.trainedAtStep()).as("group %d", e.group()).isNotNull();
            for (Rollout ro : e.scored()) {
                // version 0 is what every server held before the run's first push: no token may come from it, so the
                // joiner sampled nothing before it held the run's weights
                for (long v : ro.versions()) assertThat(v).as("group %d", e.group()).isPositive();
            }
        }
        assertThat(Ledger.trainedCounts(run.resolve("ledger.jsonl")).values()).hasSize(48).containsOnly(1);
    }
}
