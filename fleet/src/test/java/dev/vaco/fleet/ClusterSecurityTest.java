package dev.vaco.fleet;

import io.vertx.core.eventbus.ReplyException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Who may join, with real Hazelcast members on loopback: members holding the cluster keystore talk over the TLS event
 * bus and have their server announcements trusted; a member with another certificate, or none, joins at the Hazelcast
 * level (the open-source edition cannot refuse it there) but can neither exchange event-bus messages with the others
 * nor put a server in the trainer's view, and each refusal is logged.
 */
@Timeout(240)
class ClusterSecurityTest {
    static final String PASSWORD = "cluster-secret";
    @TempDir Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private PrintStream err;
    private Path right, wrong;
    private int seed;

    @BeforeEach
    void keystores() throws Exception {
        right = Keystores.make(dir, "cluster", PASSWORD);
        wrong = Keystores.make(dir, "intruder", PASSWORD);
        seed = ClusterPorts.free();
        err = System.err;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void closeAll() throws Exception {
        System.setErr(err);
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private String logged() {
        return log.toString(StandardCharsets.UTF_8);
    }

    /** A member of cluster "secure" on loopback joining through {@code seed}, with {@code keystore} (null: none). */
    private ClusterNode member(int port, Path keystore) {
        ClusterConfig c = ClusterConfig.tcp("secure", "127.0.0.1", port, "127.0.0.1:" + seed);
        if (keystore != null) c = c.withKeystore(keystore.toString(), PASSWORD);
        ClusterNode n = ClusterNode.join(c);
        open.add(n);
        return n;
    }

    private ServerAnnouncer announce(ClusterNode n, String url) {
        ServerAnnouncer a = ServerAnnouncer.start(n, () -> new ServerAnnouncement(n.nodeId(), url, "tiny", 8, 3, List.of(3L)));
        open.add(a);
        return a;
    }

    private static void awaitTrue(java.util.function.BooleanSupplier ok, java.util.function.Supplier<String> what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("never: " + what.get());
            Thread.sleep(20);
        }
    }

    @Test
    void onlyAnnouncementsSignedWithTheClusterKeyReachTheTrainer() throws Exception {
        ClusterNode trainer = member(seed, right);
        FleetView view = FleetView.open(trainer);
        open.add(view);
        List<String> joined = new CopyOnWriteArrayList<>();
        view.listen(new FleetView.Listener() {
            @Override
            public void joined(ServerAnnouncement s) {
                joined.add(s.url());
            }

            @Override
            public void left(ServerAnnouncement s) {
            }
        });
        ClusterNode intruder = member(ClusterPorts.free(), wrong);
        ClusterNode bare = member(ClusterPorts.free(), null);
        ClusterNode good = member(ClusterPorts.free(), right);
        announce(intruder, "http://127.0.0.1:1");
        announce(bare, "http://127.0.0.1:2");
        announce(good, "http://127.0.0.1:3");
        awaitTrue(() -> view.servers().size() == 1, () -> "the signed server in the view");
        awaitTrue(() -> logged().contains(bare.nodeId()), () -> "the unsigned announcement logged");
        Thread.sleep(1500); // several refreshes of the view and of every announcer
        assertThat(trainer.members()).as("all four are Hazelcast members").hasSize(4);
        assertThat(view.servers()).containsOnlyKeys(good.nodeId());
        assertThat(joined).containsExactly("http://127.0.0.1:3");
        String lines = logged();
        assertThat(lines).contains("cluster secure: refused server announcement from member " + intruder.nodeId()
                + " (http://127.0.0.1:1): not signed by the cluster certificate");
        assertThat(lines).contains("cluster secure: refused server announcement from member " + bare.nodeId()
                + " (http://127.0.0.1:2): not signed by the cluster certificate");
        assertThat(lines.lines().filter(l -> l.contains("refused server announcement"))).as("once per member").hasSize(2);
        assertThat(lines).doesNotContain("refused server announcement from member " + good.nodeId()).doesNotContain(PASSWORD);
        // the event bus check refused both from the trainer's side too
        assertThat(trainer.checked(intruder.nodeId())).isEqualTo(MemberCheck.Status.REFUSED);
        assertThat(trainer.checked(bare.nodeId())).as("no TLS: its handshakes time out, retried for a minute")
                .isIn(MemberCheck.Status.CHECKING, MemberCheck.Status.UNREACHABLE);
        assertThat(trainer.checked(good.nodeId())).isIn(MemberCheck.Status.CHECKING, MemberCheck.Status.VERIFIED);
    }

    @Test
    void theEventBusCarriesMessagesOnlyBetweenHoldersOfTheCertificate() throws Exception {
        ClusterNode a = member(seed, right);
        ClusterNode b = member(ClusterPorts.free(), right);
        ClusterNode intruder = member(ClusterPorts.free(), wrong);
        awaitTrue(() -> a.members().size() == 3, () -> "three members");
        List<String> received = new CopyOnWriteArrayList<>();
        for (ClusterNode n : List.of(a, intruder)) {
            n.vertx().eventBus().<String>consumer("test.echo." + n.nodeId(), m -> {
                received.add(n.nodeId() + " <- " + m.body());
                m.reply("ok");
            }).completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        Thread.sleep(500); // the registrations reach every member's view of the subscriptions
        assertThat(request(b, "test.echo." + a.nodeId(), "from b")).isEqualTo("ok");
        assertThatThrownBy(() -> request(intruder, "test.echo." + a.nodeId(), "from the intruder")).isInstanceOf(ReplyException.class);
        assertThatThrownBy(() -> request(a, "test.echo." + intruder.nodeId(), "to the intruder")).isInstanceOf(ReplyException.class);
        assertThat(received).containsExactly(a.nodeId() + " <- from b");
        // each member checked the others' event bus: the holders verified each other, both refused the intruder
        awaitTrue(() -> a.checked(intruder.nodeId()) == MemberCheck.Status.REFUSED
                && b.checked(intruder.nodeId()) == MemberCheck.Status.REFUSED, () -> "the intruder refused by both: a "
                + a.checked(intruder.nodeId()) + ", b " + b.checked(intruder.nodeId()) + "; intruder " + intruder.nodeId()
                + " a " + a.nodeId() + " b " + b.nodeId() + " a->b " + a.checked(b.nodeId()) + " b->a " + b.checked(a.nodeId()));
        assertThat(a.checked(b.nodeId())).isEqualTo(MemberCheck.Status.VERIFIED);
        assertThat(b.checked(a.nodeId())).isEqualTo(MemberCheck.Status.VERIFIED);
        String lines = logged();
        assertThat(lines.lines().filter(l -> l.startsWith("cluster secure: refused member " + intruder.nodeId()
                + " at 127.0.0.1:") && l.contains("its event bus does not hold the cluster certificate")))
                .as(lines).hasSize(2);
        // (the intruder, from its side, refuses a and b in turn: it trusts only its own certificate)
        assertThat(lines).doesNotContain(PASSWORD);
    }

    @Test
    void aSignatureCoversEveryFieldTheMemberAndItsTime() throws Exception {
        ClusterCredential key = ClusterCredential.load(right.toString(), PASSWORD);
        ClusterCredential other = ClusterCredential.load(wrong.toString(), PASSWORD);
        ServerAnnouncement a = new ServerAnnouncement("m1", "http://10.0.0.5:8000", "qwen", 64, 7, List.of(6L, 7L));
        long now = 1_000_000;
        var signed = SignedAnnouncement.sign(a, now, key);
        assertThat(SignedAnnouncement.refusal("m1", signed, now + 1000, key)).isNull();
        assertThat(ServerAnnouncement.fromJson(signed)).isEqualTo(a);
        assertThat(SignedAnnouncement.refusal("m1", a.toJson(), now, key)).isEqualTo("not signed by the cluster certificate");
        assertThat(SignedAnnouncement.refusal("m1", SignedAnnouncement.sign(a, now, other), now, key))
                .isEqualTo("not signed by the cluster certificate");
        assertThat(SignedAnnouncement.refusal("m2", signed, now, key)).as("copied under another member")
                .isEqualTo("not signed by the cluster certificate");
        for (var tamper : Map.<String, Object>of("url", "http://evil:8000", "live_version", 8L, "max_num_seqs", 65,
                "model", "other", "signed_at", now + 1).entrySet()) {
            assertThat(SignedAnnouncement.refusal("m1", signed.copy().put(tamper.getKey(), tamper.getValue()), now, key))
                    .as(tamper.getKey()).isNotNull();
        }
        assertThat(SignedAnnouncement.refusal("m1", signed.copy().put("resident_versions", new io.vertx.core.json.JsonArray()
                .add(7)), now, key)).isNotNull();
        assertThat(SignedAnnouncement.refusal("m1", signed.copy().put("signature", "!!"), now, key)).isNotNull();
        assertThat(SignedAnnouncement.refusal("m1", signed, now + SignedAnnouncement.MAX_AGE_MS + 1000, key))
                .startsWith("signature 31 s old");
    }

    private static String request(ClusterNode from, String address, String body) throws Exception {
        try {
            return from.vertx().eventBus().<String>request(address, body,
                            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(5000))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).body();
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) (e.getCause() instanceof Exception x ? x : e);
        }
    }
}
