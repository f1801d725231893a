package dev.vaco.fleet;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PfxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * This process as a member of a named cluster: a clustered Vert.x on the Hazelcast cluster manager, its own instance
 * beside the inference server's (so the server's event loop never waits on the cluster). {@link #close()} leaves the
 * cluster cleanly; a member that dies is dropped by the others when its connections close, or after
 * {@link #NO_HEARTBEAT_SECONDS} without a heartbeat (a frozen process).
 */
public final class ClusterNode implements AutoCloseable {
    /** Heartbeats every second; a silent member is dropped after this many seconds (Hazelcast's default is 60). */
    public static final int NO_HEARTBEAT_SECONDS = 10;
    /** How often a member split off (a thawed process) looks for the rest of its cluster to merge back into. */
    public static final int MERGE_DELAY_SECONDS = 3;

    private final ClusterConfig config;
    private final ClusterCredential credential;
    private final Vertx vertx;
    private final HazelcastClusterManager manager;
    private final MemberCheck check; // null without a credential

    private ClusterNode(ClusterConfig config, ClusterCredential credential, Vertx vertx, HazelcastClusterManager manager) {
        this.config = config;
        this.credential = credential;
        this.vertx = vertx;
        this.manager = manager;
        this.check = credential == null ? null : new MemberCheck(config.name(), vertx, manager, credential);
    }

    /** Joins {@code config}'s cluster (or forms it, when no member answers), waiting up to a minute. */
    public static ClusterNode join(ClusterConfig config) {
        if (!config.enabled()) throw new IllegalArgumentException("cluster.name: expected a cluster name, found \"\"");
        String ip = resolve(config.host());
        HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(config, ip));
        // one event loop is plenty: the cluster map and membership are all this Vert.x carries
        VertxOptions options = new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2);
        if (ip != null) options.getEventBusOptions().setHost(ip).setPort(0);
        ClusterCredential credential = config.credential();
        if (credential != null) mutualTls(options.getEventBusOptions(), credential);
        try {
            Vertx vertx = Vertx.builder().with(options).withClusterManager(manager).buildClustered()
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            return new ClusterNode(config, credential, vertx, manager);
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot join cluster '" + config.name() + "' as " + config.host() + ":"
                    + config.port() + ": " + c.getMessage(), c);
        }
    }

    /**
     * The event bus over TLS with the shared keystore as both key and trust store: each end must present the cluster
     * certificate, so a member without the keystore can neither send to nor receive from the others (Hazelcast's own
     * traffic is not covered: see {@link ClusterCredential}). PKCS#12 options, because Vert.x copies these options
     * through JSON, which keeps only its own option types. Host names are not checked: the certificate is the
     * cluster's, not a host's.
     */
    static void mutualTls(EventBusOptions bus, ClusterCredential credential) {
        PfxOptions store = new PfxOptions().setPath(credential.path().toString()).setPassword(credential.password());
        // the event bus's client trusts every server unless told not to: then a member would send to an impostor
        bus.setSsl(true).setKeyCertOptions(store).setTrustOptions(store.copy()).setTrustAll(false)
                .setClientAuth(ClientAuth.REQUIRED);
    }

    /**
     * The Hazelcast member: Vert.x's maps (from its default cluster XML), this cluster's name, no multicast, no
     * auto-detection and no phone-home, joined by TCP list or Kubernetes discovery, bound only to {@code ip}.
     */
    static Config hazelcastConfig(ClusterConfig c, String ip) {
        Config hz = ConfigUtil.loadConfig();
        hz.setClusterName(c.name());
        hz.setProperty("hazelcast.phone.home.enabled", "false");
        hz.setProperty("hazelcast.logging.type", "slf4j");
        hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        hz.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(NO_HEARTBEAT_SECONDS));
        // the 5 s default pause before joining only helps large clusters that start at once
        hz.setProperty("hazelcast.wait.seconds.before.join", "1");
        // a member dropped while frozen (SIGSTOP) forms a cluster of its own when thawed: look for the other and merge
        // back every few seconds, not after Hazelcast's 300 s first run and 120 s interval
        hz.setProperty("hazelcast.merge.first.run.delay.seconds", Integer.toString(MERGE_DELAY_SECONDS));
        hz.setProperty("hazelcast.merge.next.run.delay.seconds", Integer.toString(MERGE_DELAY_SECONDS));
        NetworkConfig net = hz.getNetworkConfig();
        net.setPort(c.port()).setPortAutoIncrement(false);
        if (ip != null) {
            hz.setProperty("hazelcast.socket.bind.any", "false");
            net.getInterfaces().setEnabled(true).setInterfaces(List.of(ip));
        }
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        if (c.kubernetes()) {
            var k8s = join.getKubernetesConfig().setEnabled(true);
            if (!c.kubernetesServiceDns().isEmpty()) k8s.setProperty("service-dns", c.kubernetesServiceDns());
            else k8s.setProperty("service-name", c.kubernetesServiceName());
            if (!c.kubernetesNamespace().isEmpty()) k8s.setProperty("namespace", c.kubernetesNamespace());
        } else {
            List<String> members = c.memberList();
            String self = (ip != null ? ip : "127.0.0.1") + ":" + c.port();
            join.getTcpIpConfig().setEnabled(true).setMembers(members.isEmpty() ? List.of(self) : members);
        }
        return hz;
    }

    private static String resolve(String host) {
        if (host.isEmpty()) return null;
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cluster.host: expected an address of this machine, found '" + host + "'");
        }
    }

    public ClusterConfig config() {
        return config;
    }

    /** The cluster's shared credential, or null when the cluster runs without a keystore. */
    public ClusterCredential credential() {
        return credential;
    }

    /** What checking {@code member}'s event bus against the cluster certificate found (null: not checked, or no keystore). */
    MemberCheck.Status checked(String member) {
        return check == null ? null : check.status(member);
    }

    /** Hazelcast's cluster time in ms: the same on every member, whatever their clocks say. */
    public long clusterTime() {
        return hazelcast().getCluster().getClusterTime();
    }

    /** The clustered Vert.x: its shared data is cluster-wide. */
    public Vertx vertx() {
        return vertx;
    }

    /** This member's id, the key of what it announces. */
    public String nodeId() {
        return manager.getNodeId();
    }

    /** The ids of the members the cluster holds now, this one included. */
    public List<String> members() {
        return manager.getNodes();
    }

    /** The address other members reach this one at (what a server bound to 0.0.0.0 announces). */
    public String address() {
        return hazelcast().getCluster().getLocalMember().getAddress().getHost();
    }

    /** Runs {@code onChange} (on a Hazelcast thread) whenever a member joins or leaves. */
    public void onMembershipChange(Runnable onChange) {
        hazelcast().getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                onChange.run();
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                onChange.run();
            }
        });
    }

    /** The Hazelcast member itself; tests terminate it to play a crashed process. */
    public HazelcastInstance hazelcast() {
        return manager.getHazelcastInstance();
    }

    /** Leaves the cluster: the others drop this member at once rather than after the heartbeat timeout. */
    @Override
    public void close() {
        if (check != null) check.close();
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // best effort: a member that cannot leave cleanly is dropped by the heartbeat timeout
        }
    }
}
