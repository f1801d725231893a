package dev.vaco.trainer.pipeline;

import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The rollout coordinator's servers: which are healthy, which version each serves or holds staged, and which calls
 * each has in flight.
 *
 * <p>Every {@link #PROBE_MS} ms every server's {@code /health} is probed, all in parallel, each with a
 * {@link #PROBE_TIMEOUT} deadline. A healthy server that misses {@link #MISSES_TO_DOWN} probes in a row is marked
 * down: a frozen process (SIGSTOP, a stalled host) still accepts connections but answers nothing, so without this its
 * requests would wait out their own 10-minute timeout. Marking a server down (or removing it) fails its calls in flight
 * at once, so their groups are re-issued elsewhere with the same seed and pin; a late answer from it completes a
 * future already failed and is ignored, never scored twice. A server marked down is probed as well: once it answers, it
 * is first brought to the live version ({@link #bringUpToDate}) and only then takes load again.
 */
final class ServerSet implements AutoCloseable {
    static final long PROBE_MS = 500;
    /** Generous: /health is answered on the server's event loop, which a 2-core machine under load may delay. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    static final int MISSES_TO_DOWN = 2;

    /** One server and what the coordinator knows of it. */
    static final class Backend {
        final PolicyClient client;
        final AtomicInteger inFlight = new AtomicInteger();
        /** Calls not answered yet: failed at once when this server is marked down or removed. */
        final Set<CompletableFuture<?>> calls = ConcurrentHashMap.newKeySet();
        /** One probe (and bring-up) at a time: a probe of a frozen server lasts its whole timeout. */
        final AtomicBoolean probing = new AtomicBoolean();
        volatile boolean healthy = true;
        volatile boolean removed;
        volatile long servedVersion = -1;
        volatile long stagedVersion = -1;
        volatile int misses;

        Backend(PolicyClient client) {
            this.client = client;
        }
    }

    /** Thrown into the calls in flight on a server marked down or removed. */
    static final class ServerDown extends RuntimeException {
        ServerDown(URI server, String why) {
            super(server + " " + why);
        }
    }

    /** One weight operation on a server; a failure marks it down (the health check brings it up to date). */
    interface WeightOp {
        double apply(Backend b) throws Exception;
    }

    /** Read by every callback, changed by the fleet's membership: copy on write. */
    final List<Backend> backends = new CopyOnWriteArrayList<>();
    private final AtomicInteger turn = new AtomicInteger();
    /** Weight operations and bring-ups: each may block on a server for as long as its HTTP timeout. */
    private final ExecutorService blocking = Executors.newCachedThreadPool(r -> RolloutCoordinator.daemon(r, "vaco-server-op"));
    private final PrintStream out;
    volatile Weights currentWeights;
    volatile long currentVersion = -1;   // the live version: last activated (or rolled back to)
    volatile long publishedVersion = -1; // the newest version every healthy server has confirmed
    /**
     * A version is being staged (from stage() until it is activated or dropped): a server coming back meanwhile waits.
     * Brought up to the live version then, it would miss the staged one and fall behind again at its activation,
     * switching seconds after the others (FleetFaultsTest saw a thawed server 4.8-8.8 s late so); waiting, it is
     * brought straight to the new version once that is live.
     */
    volatile boolean staging;

    ServerSet(List<PolicyClient> servers, ScheduledExecutorService timer, PrintStream out) {
        this.out = out;
        for (PolicyClient c : servers) backends.add(new Backend(c));
        timer.scheduleWithFixedDelay(this::checkHealth, PROBE_MS, PROBE_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * The healthy server with the fewest requests in flight that serves at least the published version; null if none.
     * Ties go round the list: with few groups in flight most picks are ties, and a first-in-list rule would leave a
     * server that (re)joined at the end of the list idle.
     */
    Backend pick() {
        List<Backend> list = List.copyOf(backends);
        int start = Math.floorMod(turn.getAndIncrement(), Math.max(1, list.size()));
        Backend best = null;
        for (int i = 0; i < list.size(); i++) {
            Backend b = list.get((start + i) % list.size());
            // a server that missed pushes (it was down) must not sample below the version admission assumed
            if (!b.healthy || b.servedVersion < publishedVersion) continue;
            if (best == null || b.inFlight.get() < best.inFlight.get()) best = b;
        }
        return best;
    }

    /** The backend of {@code client}, or null if it is not (or no longer) in the set. */
    Backend of(PolicyClient client) {
        for (Backend b : backends) if (b.client == client) return b;
        return null;
    }

    /**
     * Registers {@code call} as in flight on {@code b}: it fails with {@link ServerDown} as soon as {@code b} is marked
     * down or removed, whatever the server does later. Returns {@code call}.
     */
    <T> CompletableFuture<T> track(Backend b, CompletableFuture<T> call) {
        b.calls.add(call);
        call.whenComplete((r, e) -> b.calls.remove(call));
        // marked down between pick() and here: markDown's sweep may have missed this call
        if (!b.healthy || b.removed) call.completeExceptionally(new ServerDown(b.client.base(), "is down"));
        return call;
    }

    /** Takes {@code b} out of rotation and fails its calls in flight (their groups go elsewhere). */
    void markDown(Backend b, String why) {
        boolean was = b.healthy;
        b.healthy = false;
        int failed = 0;
        for (CompletableFuture<?> c : b.calls) if (c.completeExceptionally(new ServerDown(b.client.base(), why))) failed++;
        if (was) out.printf("server %s down (%s): %d calls in flight go elsewhere%n", b.client.base(), why, failed);
    }

    /**
     * Takes {@code b} out of rotation because it does not hold {@code version}, which goes live now: behind, not broken,
     * so its calls in flight (sampling the live version) stand; the health check brings it up to date.
     */
    void leaveBehind(Backend b, long version) {
        if (!b.healthy) return;
        b.healthy = false;
        out.printf("server %s out of rotation (did not stage version %d): brought up to date before it takes load%n",
                b.client.base(), version);
    }

    /** A server that joined mid-run: it takes load once the health check has brought it to the live version. */
    void add(PolicyClient client) {
        for (Backend b : backends) if (b.client.base().equals(client.base())) return;
        Backend b = new Backend(client);
        b.healthy = false;
        backends.add(b);
    }

    /** A server that left: no new call goes there, and those in flight fail over now rather than at their timeout. */
    void remove(URI base) {
        for (Backend b : backends) {
            if (!b.client.base().equals(base)) continue;
            b.removed = true;
            backends.remove(b);
            markDown(b, "left the cluster");
        }
    }

    /**
     * Runs {@code op} on every healthy server in parallel; returns the largest result of those that succeeded. A server
     * that fails, or that is marked down while its operation hangs (frozen mid-push), is left behind: it is brought up
     * to date when it answers again.
     */
    double onEveryHealthy(long version, WeightOp op) throws InterruptedException {
        List<Backend> targets = new ArrayList<>();
        List<CompletableFuture<Double>> fs = new ArrayList<>();
        for (Backend b : backends) {
            if (!b.healthy) continue;
            targets.add(b);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return op.apply(b);
                } catch (Exception e) {
                    markDown(b, "failed version " + version + ": " + e.getMessage());
                    throw new IllegalStateException("version " + version + " on " + b.client.base() + ": " + e.getMessage(), e);
                }
            }, blocking));
        }
        double worst = 0;
        for (int i = 0; i < fs.size(); i++) {
            Backend b = targets.get(i);
            // failed: marked down, brought up to date when it recovers; frozen or gone: not waited for
            Double s = awaitUnless(fs.get(i), () -> !b.healthy || b.removed);
            if (s != null) worst = Math.max(worst, s);
        }
        return worst;
    }

    /**
     * {@code f}'s value, or null once it has failed or {@code abandoned} turns true (its server marked down: frozen
     * mid-operation, or gone), without waiting for the call's own timeout; a late end of the call is ignored.
     */
    static <T> T awaitUnless(CompletableFuture<T> f, BooleanSupplier abandoned) throws InterruptedException {
        while (true) {
            try {
                return f.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (abandoned.getAsBoolean()) return null;
            } catch (ExecutionException e) {
                return null;
            }
        }
    }

    /** Probes every server (those already probing aside), in parallel, off the timer thread. */
    private void checkHealth() {
        for (Backend b : backends) {
            // a healthy server behind the published version (a late answer undid an update): bring it up to date
            if (b.healthy && b.servedVersion < publishedVersion && publishedVersion >= 0) markDown(b, "is behind");
            if (!b.probing.compareAndSet(false, true)) continue;
            b.client.probe(PROBE_TIMEOUT).whenCompleteAsync((ok, err) -> {
                try {
                    if (Boolean.TRUE.equals(ok)) recovered(b);
                    else if (++b.misses >= MISSES_TO_DOWN && b.healthy) {
                        markDown(b, "missed " + b.misses + " health probes of " + PROBE_TIMEOUT.toMillis() + " ms");
                    }
                } finally {
                    b.probing.set(false);
                }
            }, blocking);
        }
    }

    /** A probe answered: a server that was down is brought to the live version and takes load again. */
    private void recovered(Backend b) {
        b.misses = 0;
        if (b.healthy || b.removed || staging) return;
        try {
            // one consistent (weights, version): an activation running meanwhile must not mix the two
            Weights w = currentWeights;
            if (w != null) bringUpToDate(b, w, currentVersion);
            // a newer version went live or began staging meanwhile: catch up on a later round before taking load
            b.healthy = w == currentWeights && !b.removed && !staging;
            if (b.healthy) out.printf("server %s up at version %d: takes load%n", b.client.base(), b.servedVersion);
        } catch (Exception e) {
            b.healthy = false;
        }
    }

    /**
     * A server that comes back gets the live version, live at once (activated if it holds it staged, else pushed), and
     * loses any other staged version: what it missed while down was never verified there.
     */
    private static void bringUpToDate(Backend b, Weights weights, long version) throws Exception {
        PolicyClient.ServedVersions sv = b.client.versions();
        for (long s : sv.staged()) if (s != version) b.client.drop(s);
        if (sv.live() < version) {
            if (sv.staged().contains(version)) b.client.activate(version);
            else b.client.pushWeights(weights, version);
        }
        b.servedVersion = version;
        b.stagedVersion = -1;
    }

    /** The healthy servers holding {@code version} staged: where its canaries are scored. */
    List<PolicyClient> staged(long version) {
        List<PolicyClient> out = new ArrayList<>();
        for (Backend b : backends) if (b.healthy && b.stagedVersion == version) out.add(b.client);
        return out;
    }

    /** Servers used for canaries and evaluation: the healthy ones serving the current version. */
    List<PolicyClient> current() {
        List<PolicyClient> out = new ArrayList<>();
        for (Backend b : backends) if (b.healthy && b.servedVersion == currentVersion) out.add(b.client);
        return out;
    }

    /** Every server, healthy ones first (evaluation falls back on them when none is known to be current). */
    List<PolicyClient> all() {
        List<PolicyClient> out = new ArrayList<>();
        for (Backend b : backends) if (b.healthy) out.add(b.client);
        for (Backend b : backends) if (!b.healthy) out.add(b.client);
        return out;
    }

    int healthyCount() {
        int n = 0;
        for (Backend b : backends) if (b.healthy) n++;
        return n;
    }

    @Override
    public void close() {
        blocking.shutdownNow();
    }
}
