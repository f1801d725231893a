package dev.vaco.fleet;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PfxOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import javax.net.ssl.SSLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks every member that joins: a TLS handshake with its event bus, presenting the cluster certificate and trusting
 * only it. Vert.x refuses such a member's event-bus connections silently (its event-bus server has no hook for a failed
 * handshake), so the refusal is logged here, once per member, from this side: "refused member X at host:port: its
 * event bus does not hold the cluster certificate". A member that passes is {@link Status#VERIFIED}. One not known to
 * Vert.x yet, not listening yet or whose handshake times out (a member without TLS never answers one; an overloaded
 * one may be late) is retried for {@link #GIVE_UP_MS} ms, then logged and left {@link Status#UNREACHABLE}.
 */
final class MemberCheck implements AutoCloseable {
    enum Status { CHECKING, VERIFIED, REFUSED, UNREACHABLE }

    static final long SWEEP_MS = 500;

    /**
     * A member's event bus listens some seconds after it joins Hazelcast, and a loaded machine may let a handshake time
     * out: those are retried for this long before the member is reported as not answering.
     */
    static final long GIVE_UP_MS = 60_000;
    static final long RETRY_MS = 500;

    private final String cluster;
    private final Vertx vertx;
    private final HazelcastClusterManager manager;
    private final NetClient client;
    private final Map<String, Status> status = new ConcurrentHashMap<>();
    private final long timer;

    MemberCheck(String cluster, Vertx vertx, HazelcastClusterManager manager, ClusterCredential credential) {
        this.cluster = cluster;
        this.vertx = vertx;
        this.manager = manager;
        PfxOptions store = new PfxOptions().setPath(credential.path().toString()).setPassword(credential.password());
        // as the event bus's own client: the cluster certificate is checked, host names are not
        this.client = vertx.createNetClient(new NetClientOptions().setSsl(true).setKeyCertOptions(store)
                .setTrustOptions(store.copy()).setHostnameVerificationAlgorithm("").setConnectTimeout(5_000)
                .setSslHandshakeTimeout(5).setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS));
        // Vert.x's node ids are not Hazelcast's member ids, and Vert.x keeps its one node listener: poll its node list
        this.timer = vertx.setPeriodic(0, SWEEP_MS, id -> sweep());
    }

    /** Starts a check of every member not checked yet; forgets those that left. */
    private void sweep() {
        List<String> nodes = manager.getNodes();
        status.keySet().retainAll(nodes);
        for (String id : nodes) {
            if (!id.equals(manager.getNodeId()) && status.putIfAbsent(id, Status.CHECKING) == null) {
                check(id, System.nanoTime());
            }
        }
    }

    /** What checking {@code member} found so far, or null before it started. */
    Status status(String member) {
        return status.get(member);
    }

    private void check(String member, long since) {
        Promise<NodeInfo> info = Promise.promise();
        manager.getNodeInfo(member, info);
        info.future().compose(n -> client.connect(n.port(), n.host()).map(s -> {
            s.close();
            return n;
        }).recover(t -> io.vertx.core.Future.failedFuture(new Refusal(n, t)))).onComplete(ar -> {
            if (ar.succeeded()) {
                status.put(member, Status.VERIFIED);
            } else if (ar.cause() instanceof Refusal r && r.certificate()) {
                if (status.put(member, Status.REFUSED) != Status.REFUSED) {
                    System.err.printf("cluster %s: refused member %s at %s:%d: its event bus does not hold the cluster "
                            + "certificate (%s); no event-bus message goes to or comes from it%n", cluster, member,
                            r.node.host(), r.node.port(), r.reason());
                }
            } else if (System.nanoTime() - since < GIVE_UP_MS * 1_000_000 && manager.getNodes().contains(member)) {
                // not known to Vert.x yet, not listening yet, or too slow to finish a handshake: again
                vertx.setTimer(RETRY_MS, id -> check(member, since));
            } else if (manager.getNodes().contains(member) && status.put(member, Status.UNREACHABLE) != Status.UNREACHABLE) {
                String where = ar.cause() instanceof Refusal r ? " at " + r.node.host() + ":" + r.node.port() : "";
                System.err.printf("cluster %s: refused member %s%s: its event bus completed no TLS handshake in %d s (%s): "
                        + "it has no cluster keystore, or is not answering%n", cluster, member, where, GIVE_UP_MS / 1000,
                        ar.cause().getMessage());
            }
        });
    }

    /** A failed connection to {@code node}; {@link #certificate()} when a certificate was refused. */
    private static final class Refusal extends RuntimeException {
        final NodeInfo node;

        Refusal(NodeInfo node, Throwable cause) {
            super(cause);
            this.node = node;
        }

        /** Whether a certificate was refused (by either end), not merely a handshake that timed out. */
        boolean certificate() {
            boolean tls = false;
            for (Throwable t = getCause(); t != null; t = t.getCause()) {
                if (t instanceof SslHandshakeTimeoutException) return false;
                tls |= t instanceof SSLException;
            }
            return tls;
        }

        /** The innermost message, e.g. "unable to find valid certification path" or "Received fatal alert: ...". */
        String reason() {
            String why = null;
            for (Throwable t = getCause(); t != null; t = t.getCause()) {
                if (t.getMessage() != null) why = t.getMessage();
            }
            return why;
        }
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        client.close();
    }
}
