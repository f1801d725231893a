package dev.vaco.fleet;

import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An inference server's entry in the cluster map {@link #MAP}, kept current: its announcement is re-read every
 * {@link #POLL_MS} ms and written when it changed (a push or rollback changed its versions), and rewritten every
 * {@link #REFRESH_MS} ms regardless, so an entry a peer dropped during a partition comes back. The engine's versions
 * are read rather than hooked: the weight routes stay as they are. {@link #close()} removes the entry; a member that
 * dies leaves it behind, and readers ({@link FleetView}) ignore entries of members no longer in the cluster. In a
 * cluster with a keystore every entry is signed with the cluster key ({@link SignedAnnouncement}) at each write.
 */
public final class ServerAnnouncer implements AutoCloseable {
    /** The cluster-wide map of announcements, keyed by member id. */
    public static final String MAP = "vaco.fleet.servers";
    static final long POLL_MS = 250;
    static final long REFRESH_MS = 5_000;

    private final ClusterNode node;
    private final Supplier<ServerAnnouncement> state;
    private final AsyncMap<String, JsonObject> map;
    private final long timer;
    private ServerAnnouncement last; // after the constructor, touched on the node's event loop only
    private long lastWrite;

    private ServerAnnouncer(ClusterNode node, Supplier<ServerAnnouncement> state, AsyncMap<String, JsonObject> map,
                            ServerAnnouncement first) {
        this.node = node;
        this.state = state;
        this.map = map;
        this.last = first;
        this.lastWrite = System.nanoTime();
        this.timer = node.vertx().setPeriodic(POLL_MS, id -> refresh());
    }

    /** Announces {@code state} (read again on every poll) under {@code node}'s id; returns once it is in the map. */
    public static ServerAnnouncer start(ClusterNode node, Supplier<ServerAnnouncement> state) {
        try {
            AsyncMap<String, JsonObject> map = node.vertx().sharedData().<String, JsonObject>getAsyncMap(MAP)
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            ServerAnnouncement first = state.get();
            map.put(node.nodeId(), entry(node, first)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return new ServerAnnouncer(node, state, map, first);
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot announce this server to cluster '" + node.config().name() + "': "
                    + c.getMessage(), c);
        }
    }

    private void refresh() {
        ServerAnnouncement now;
        try {
            now = state.get();
        } catch (RuntimeException e) {
            return; // the server is shutting down: close() removes the entry
        }
        boolean stale = System.nanoTime() - lastWrite > TimeUnit.MILLISECONDS.toNanos(REFRESH_MS);
        if (now.equals(last) && !stale) return;
        last = now;
        lastWrite = System.nanoTime();
        try {
            map.put(node.nodeId(), entry(node, now));
        } catch (RuntimeException e) {
            // this member is no longer in the cluster (it was terminated): there is nobody left to tell
        }
    }

    /** What the map holds for {@code a}: signed when the cluster has a key. */
    private static JsonObject entry(ClusterNode node, ServerAnnouncement a) {
        ClusterCredential c = node.credential();
        return c == null ? a.toJson() : SignedAnnouncement.sign(a, node.clusterTime(), c);
    }

    /** Withdraws the announcement, so the trainer stops sending here before the server drains and stops. */
    @Override
    public void close() {
        node.vertx().cancelTimer(timer);
        try {
            map.remove(node.nodeId()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the cluster is gone already: nothing is left to withdraw from
        }
    }
}
