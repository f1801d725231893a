package dev.vaco.fleet;

import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The inference servers of the cluster as a trainer sees them: the announcements in {@link ServerAnnouncer#MAP} of
 * members still in the cluster, followed as they change. Re-read every {@link #POLL_MS} ms and at once when a member
 * joins or leaves; a member that died is dropped as soon as Hazelcast drops it, and its left-behind entry is removed.
 * In a cluster with a keystore only entries signed with the cluster key count ({@link SignedAnnouncement}): any other
 * is refused, never handed to listeners, and logged once per member and reason.
 */
public final class FleetView implements AutoCloseable {
    /** Told of servers joining and leaving, on the cluster's event loop (keep it short). */
    public interface Listener {
        void joined(ServerAnnouncement server);

        void left(ServerAnnouncement server);
    }

    static final long POLL_MS = 250;

    private final ClusterNode node;
    private final AsyncMap<String, JsonObject> map;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final long timer;
    private volatile Map<String, ServerAnnouncement> servers = Map.of();
    private final Set<String> seenMembers = new HashSet<>(); // on the event loop only
    private final Map<String, String> refused = new HashMap<>(); // member -> why, on the event loop only
    // member -> the entry whose signature was last verified: the view re-reads every entry 4 times a second, and an
    // unchanged one needs only its age checked. A P-256 verification took ~3 ms on the 2-core build machine: 4N a
    // second for N servers without this, N/5 with it (each server re-signs every 5 s)
    private final Map<String, JsonObject> verified = new HashMap<>();
    private boolean refreshing, again; // on the event loop only
    private volatile boolean closed;

    private FleetView(ClusterNode node, AsyncMap<String, JsonObject> map) {
        this.node = node;
        this.map = map;
        this.timer = node.vertx().setPeriodic(POLL_MS, id -> refresh());
        node.onMembershipChange(() -> node.vertx().runOnContext(v -> refresh()));
        node.vertx().runOnContext(v -> refresh());
    }

    public static FleetView open(ClusterNode node) {
        try {
            AsyncMap<String, JsonObject> map = node.vertx().sharedData().<String, JsonObject>getAsyncMap(ServerAnnouncer.MAP)
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return new FleetView(node, map);
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot read the servers of cluster '" + node.config().name() + "': "
                    + c.getMessage(), c);
        }
    }

    /** The servers now, by member id. */
    public Map<String, ServerAnnouncement> servers() {
        return servers;
    }

    /**
     * Adds {@code l}; it is first told of every server already known (as joined), on the event loop, so it misses
     * nothing and sees nothing twice.
     */
    public void listen(Listener l) {
        node.vertx().runOnContext(v -> {
            for (ServerAnnouncement s : servers.values()) l.joined(s);
            listeners.add(l);
        });
    }

    public void unlisten(Listener l) {
        listeners.remove(l);
    }

    /** Waits until at least {@code n} servers are announced; returns them, or throws after {@code timeout}. */
    public List<ServerAnnouncement> awaitServers(int n, Duration timeout) throws InterruptedException {
        return awaitServers(n, timeout, () -> false);
    }

    /**
     * As above, but returns null as soon as {@code cancelled} turns true (a scheduler's SIGTERM must not wait out a
     * timeout of minutes).
     */
    public List<ServerAnnouncement> awaitServers(int n, Duration timeout, BooleanSupplier cancelled) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (servers.size() < n) {
            if (cancelled.getAsBoolean()) return null;
            if (System.nanoTime() > end) {
                throw new IllegalStateException("cluster '" + node.config().name() + "': " + servers.size() + " of "
                        + n + " inference servers announced after " + timeout.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
        return new ArrayList<>(servers.values());
    }

    private void refresh() {
        if (closed) return;
        if (refreshing) { // one read at a time; a change seen meanwhile gets one more
            again = true;
            return;
        }
        refreshing = true;
        map.entries().onComplete(ar -> {
            refreshing = false;
            if (ar.succeeded()) apply(ar.result());
            if (again) {
                again = false;
                refresh();
            }
        });
    }

    private void apply(Map<String, JsonObject> entries) {
        if (closed) return;
        Set<String> members = new HashSet<>(node.members());
        seenMembers.addAll(members);
        Map<String, ServerAnnouncement> now = new LinkedHashMap<>();
        for (var e : entries.entrySet()) {
            if (members.contains(e.getKey())) {
                if (accepted(e.getKey(), e.getValue())) now.put(e.getKey(), ServerAnnouncement.fromJson(e.getValue()));
            }
            // a member seen here that has left: whoever notices first removes its entry (a joiner this view does not
            // know yet keeps its own)
            else if (seenMembers.contains(e.getKey())) map.remove(e.getKey());
        }
        refused.keySet().retainAll(members);
        verified.keySet().retainAll(members);
        Map<String, ServerAnnouncement> before = servers;
        servers = Map.copyOf(now);
        for (var e : before.entrySet()) {
            if (!now.containsKey(e.getKey())) for (Listener l : listeners) l.left(e.getValue());
        }
        for (var e : now.entrySet()) {
            if (!before.containsKey(e.getKey())) for (Listener l : listeners) l.joined(e.getValue());
        }
    }

    /** Whether the entry of {@code member} may be trusted; a refusal is logged when its reason is new. */
    private boolean accepted(String member, JsonObject entry) {
        ClusterCredential c = node.credential();
        if (c == null) return true;
        long now = node.clusterTime();
        String why = entry.equals(verified.get(member)) ? SignedAnnouncement.staleness(entry, now)
                : SignedAnnouncement.refusal(member, entry, now, c);
        if (why == null) {
            verified.put(member, entry);
            refused.remove(member);
            return true;
        }
        verified.remove(member);
        if (!why.equals(refused.put(member, why))) {
            System.err.printf("cluster %s: refused server announcement from member %s (%s): %s%n", node.config().name(),
                    member, printable(entry.getValue("url")), why);
        }
        return false;
    }

    /** A value another member wrote, safe to print on one line. */
    private static String printable(Object v) {
        String s = String.valueOf(v).replaceAll("\\p{Cntrl}", "?");
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    @Override
    public void close() {
        closed = true;
        node.vertx().cancelTimer(timer);
        listeners.clear();
    }
}
