package dev.vaco.fleet;

import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real Hazelcast members on loopback, each its own clustered Vert.x, and real inference servers announcing themselves:
 * a trainer's view sees them, their version changes, a clean leave, a crash and a late joiner. Prints how long each
 * membership change took to be seen.
 */
@Timeout(240)
class FleetViewTest {
    @TempDir Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private Path modelDir;
    private ModelDir.Loaded m;
    private int seed;
    private ClusterNode trainer;

    @BeforeEach
    void tinyModel() throws IOException {
        modelDir = dir.resolve("model");
        m = ModelInit.initTiny(modelDir, 3);
        seed = ClusterPorts.free();
    }

    /** The trainer's side: the first member of {@code cluster} (the others join through it) and its view. */
    private FleetView trainerView(String cluster) {
        trainer = member(cluster, seed);
        FleetView view = FleetView.open(trainer);
        open.add(view);
        return view;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }


    /** A member of {@code name} on loopback, joining through the trainer's address {@code seed}. */
    private ClusterNode member(String name, int port) {
        ClusterNode n = ClusterNode.join(ClusterConfig.tcp(name, "127.0.0.1", port, "127.0.0.1:" + seed));
        open.add(n);
        return n;
    }

    /** An inference server on loopback announced by its own cluster member; returns the server, the member last. */
    private Object[] announcedServer(String cluster) throws IOException {
        Server s = Server.start(modelDir, m.config(), m.weights(), 0,
                new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                new EngineOptions(8, 64, 4, PolicyOptions.DEFAULT.withThreads(1)));
        open.add(s);
        ClusterNode n = member(cluster, ClusterPorts.free());
        String url = "http://127.0.0.1:" + s.port();
        ServerAnnouncer a = ServerAnnouncer.start(n, () -> new ServerAnnouncement(n.nodeId(), url, "tiny", 8,
                s.engine().liveVersion(), s.engine().residentVersions()));
        open.add(a);
        return new Object[] {s, a, n};
    }

    private static double awaitView(FleetView v, Predicate<Map<String, ServerAnnouncement>> ok) throws InterruptedException {
        long t0 = System.nanoTime();
        while (!ok.test(v.servers())) {
            if (System.nanoTime() - t0 > Duration.ofSeconds(60).toNanos()) {
                throw new AssertionError("the fleet view never got there; it holds " + v.servers());
            }
            Thread.sleep(20);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static boolean hasUrl(Map<String, ServerAnnouncement> m, Server s) {
        return m.values().stream().anyMatch(a -> a.url().equals("http://127.0.0.1:" + s.port()));
    }

    @Test
    void trainerSeesServersAnnounceChangeLeaveCrashAndJoin() throws Exception {
        FleetView view = trainerView("fleet-test");
        List<String> events = new CopyOnWriteArrayList<>();
        view.listen(new FleetView.Listener() {
            @Override
            public void joined(ServerAnnouncement s) {
                events.add("joined " + s.url());
            }

            @Override
            public void left(ServerAnnouncement s) {
                events.add("left " + s.url());
            }
        });

        Object[] one = announcedServer("fleet-test");
        Object[] two = announcedServer("fleet-test");
        Server s1 = (Server) one[0], s2 = (Server) two[0];
        awaitView(view, v -> v.size() == 2);
        for (ServerAnnouncement a : view.servers().values()) {
            assertThat(a.model()).isEqualTo("tiny");
            assertThat(a.maxNumSeqs()).isEqualTo(8);
            assertThat(a.liveVersion()).isEqualTo(0);
            assertThat(a.residentVersions()).containsExactly(0L);
        }
        assertThat(hasUrl(view.servers(), s1) && hasUrl(view.servers(), s2)).isTrue();
        assertThat(view.servers().keySet()).containsExactlyInAnyOrder(((ClusterNode) one[2]).nodeId(),
                ((ClusterNode) two[2]).nodeId());

        // a push changes what the server announces
        s1.engine().publish(m.weights(), 7).join();
        double versionSeen = awaitView(view, v -> v.get(((ClusterNode) one[2]).nodeId()).liveVersion() == 7);
        assertThat(view.servers().get(((ClusterNode) one[2]).nodeId()).residentVersions()).containsExactly(0L, 7L);

        // a clean leave: the announcement is withdrawn, the member leaves
        ((ServerAnnouncer) one[1]).close();
        ((ClusterNode) one[2]).close();
        double leaveSeen = awaitView(view, v -> v.size() == 1 && !hasUrl(v, s1));

        // a crash: the Hazelcast member dies without a word; its entry stays in the map until the view drops it
        long t0 = System.nanoTime();
        ((ClusterNode) two[2]).hazelcast().getLifecycleService().terminate();
        awaitView(view, Map::isEmpty);
        double crashSeen = (System.nanoTime() - t0) / 1e9;

        // a server joining mid-way
        t0 = System.nanoTime();
        Object[] three = announcedServer("fleet-test");
        awaitView(view, v -> v.size() == 1 && hasUrl(v, (Server) three[0]));
        double joinSeen = (System.nanoTime() - t0) / 1e9;

        assertThat(events).containsExactly("joined http://127.0.0.1:" + s1.port(), "joined http://127.0.0.1:" + s2.port(),
                "left http://127.0.0.1:" + s1.port(), "left http://127.0.0.1:" + s2.port(),
                "joined http://127.0.0.1:" + ((Server) three[0]).port());
        System.out.printf("fleet membership seen by the trainer: version change %.2f s, clean leave %.2f s, crash %.2f s, "
                + "join (member start + announce) %.2f s%n", versionSeen, leaveSeen, crashSeen, joinSeen);
        assertThat(leaveSeen).isLessThan(5);
        assertThat(crashSeen).isLessThan(ClusterNode.NO_HEARTBEAT_SECONDS + 5);
    }

    @Test
    void membersOfAnotherClusterNameAreNotSeen() throws Exception {
        FleetView view = trainerView("alpha");
        // joins through the same address but under another name: Hazelcast refuses to merge them
        Object[] other = announcedServer("beta");
        Object[] mine = announcedServer("alpha");
        awaitView(view, v -> v.size() == 1 && hasUrl(v, (Server) mine[0]));
        Thread.sleep(1000);
        assertThat(view.servers()).hasSize(1);
        assertThat(hasUrl(view.servers(), (Server) other[0])).isFalse();
        assertThat(trainer.members()).hasSize(2);
    }
}
