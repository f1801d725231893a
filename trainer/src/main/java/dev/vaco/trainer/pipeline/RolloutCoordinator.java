package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.Problem;
import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;
import dev.vaco.learner.Rollout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Keeps groups in flight against one or more inference servers and hands scored groups to the learner.
 *
 * <p>Admission control instead of dropping (AReaL's rule): group g (numbered in admission order, B groups per learner
 * batch) is admitted only while {@code g < (p + eta + 1) * B}, p being the number of learner steps whose weights the
 * servers already serve. Every token of g is then sampled by a version at least p and trained by the learner at a
 * step at most p + eta, so no trained token lags more than eta versions; with eta = 0 this is the synchronous loop.
 * Nothing is dropped.
 *
 * <p>Load goes to the healthy server with the fewest requests in flight. A request that fails (connection refused,
 * 5xx, timeout) is re-issued on another server with the same seed and pin, and its server is marked unhealthy until
 * its {@code /health} answers again, when it first receives the current weights.
 *
 * <p>The server set may change during the run ({@link #addServer}, {@link #removeServer}; a cluster's members, see
 * {@link FleetFollower}): a server added takes no load until it holds the current weights, and the requests in flight on
 * a server removed fail over as above.
 */
public final class RolloutCoordinator implements AutoCloseable {
    /** A group in the pipeline: G samples of one prompt. */
    public record Group(long index, Problem problem, int[] prompt, long seed, Long pinnedVersion, List<Rollout> rollouts) {}

    /** How to sample: group size, temperature, completion length. */
    public record Sampling(int groupSize, double temperature, int maxTokens) {}

    private final class Backend {
        final PolicyClient client;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile boolean healthy = true;
        volatile long servedVersion = -1;

        Backend(PolicyClient client) {
            this.client = client;
        }
    }

    /** Read by every callback, changed by the fleet's membership: copy on write. */
    private final List<Backend> backends = new CopyOnWriteArrayList<>();
    private final Sampling sampling;
    private final Verifier verifier;
    private final Ledger ledger;
    private final PriorityBlockingQueue<Group> ready = new PriorityBlockingQueue<>(64, Comparator.comparingLong(Group::index));
    private final ExecutorService scoring = Executors.newSingleThreadExecutor(r -> daemon(r, "vaco-score"));
    private final ScheduledExecutorService health = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "vaco-health"));
    private final AtomicLong inFlightGroups = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private volatile Weights currentWeights;
    private volatile long currentVersion = -1;   // the newest version pushed (or rolled back to)
    private volatile long publishedVersion = -1; // the newest version every healthy server has confirmed
    private volatile Throwable fatal;

    public RolloutCoordinator(List<PolicyClient> servers, Sampling sampling, Verifier verifier, Ledger ledger) {
        if (servers.isEmpty()) throw new IllegalArgumentException("at least one inference server is needed");
        for (PolicyClient c : servers) backends.add(new Backend(c));
        this.sampling = sampling;
        this.verifier = verifier;
        this.ledger = ledger;
        health.scheduleWithFixedDelay(this::checkHealth, 500, 500, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Sends a group (new, or re-issued after a resume) to the least-loaded healthy server. */
    public void issue(Group g) {
        inFlightGroups.incrementAndGet();
        send(g, 0);
    }

    private void send(Group g, int attempt) {
        Backend b = pick();
        if (b == null) { // every server is down: wait for one to come back
            health.schedule(() -> send(g, attempt), 200, TimeUnit.MILLISECONDS);
            return;
        }
        b.inFlight.incrementAndGet();
        var req = new PolicyClient.GenerateRequest(g.prompt(), sampling.groupSize(), sampling.temperature(), 1.0, 0,
                sampling.maxTokens(), List.of(), g.seed(), g.pinnedVersion(), false);
        CompletableFuture<PolicyClient.GenerateResponse> f;
        try {
            f = b.client.generate(req);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((resp, err) -> {
            b.inFlight.decrementAndGet();
            if (err == null) {
                scoring.execute(() -> score(g, resp));
                return;
            }
            Throwable cause = err.getCause() != null ? err.getCause() : err;
            if (cause instanceof PolicyClient.ServerException se && se.status >= 400 && se.status < 500 && attempt >= 3) {
                fatal = new IllegalStateException("group " + g.index() + " refused by every server: " + se.getMessage(), se);
                return;
            }
            if (!(cause instanceof PolicyClient.ServerException se2 && se2.status < 500)) b.healthy = false;
            retries.incrementAndGet();
            health.schedule(() -> send(g, attempt + 1), Math.min(1000, 50L << Math.min(attempt, 4)), TimeUnit.MILLISECONDS);
        });
    }

    /**
     * Adds a server that joined mid-run. It starts unhealthy, so the health check first brings it to the current
     * weights (pushes them unless it already serves that version) and only then does it take groups.
     */
    public void addServer(PolicyClient client) {
        for (Backend b : backends) if (b.client.base().equals(client.base())) return;
        Backend b = new Backend(client);
        b.healthy = false;
        backends.add(b);
    }

    /**
     * Removes the server at {@code base} (it left the cluster): no new request goes there; requests in flight on it
     * complete, or fail and are re-issued elsewhere with the same seed and pin.
     */
    public void removeServer(URI base) {
        backends.removeIf(b -> b.client.base().equals(base));
    }

    private Backend pick() {
        Backend best = null;
        for (Backend b : backends) {
            // a server that missed pushes (it was down) must not sample below the version admission assumed
            if (!b.healthy || b.servedVersion < publishedVersion) continue;
            if (best == null || b.inFlight.get() < best.inFlight.get()) best = b;
        }
        return best;
    }

    private void score(Group g, PolicyClient.GenerateResponse resp) {
        try {
            List<Rollout> rs = new ArrayList<>();
            for (PolicyClient.Completion c : resp.samples()) {
                Verdict v = verifier.verifyGold(g.problem().goldAnswer(), c.text());
                rs.add(new Rollout(g.problem(), (int) g.index(), g.prompt(), c.tokenIds(), c.logprobs(), c.policyVersions(),
                        (float) v.reward(), v.status().name(), c.finishReason()));
                generatedTokens.addAndGet(c.tokenIds().length);
            }
            ledger.scored(g.index(), rs);
            inFlightGroups.decrementAndGet();
            ready.add(new Group(g.index(), g.problem(), g.prompt(), g.seed(), g.pinnedVersion(), rs));
        } catch (RuntimeException e) {
            fatal = e;
        }
    }

    /** Puts an already scored group (from the ledger, after a resume) straight into the ready queue. */
    public void restoreScored(Group g) {
        ready.add(g);
    }

    /** The {@code count} oldest ready groups, waiting until that many are ready. */
    public List<Group> takeOldest(int count) throws InterruptedException {
        List<Group> out = new ArrayList<>();
        while (out.size() < count) {
            checkFatal();
            Group g = ready.poll(200, TimeUnit.MILLISECONDS);
            if (g != null) out.add(g);
        }
        return out;
    }

    /** Exactly the groups with indices in [from, to) (deterministic batches for lag experiments), waiting for all. */
    public List<Group> takeRange(long from, long to) throws InterruptedException {
        List<Group> out = new ArrayList<>();
        List<Group> parked = new ArrayList<>();
        while (out.size() < to - from) {
            checkFatal();
            Group g = ready.poll(200, TimeUnit.MILLISECONDS);
            if (g == null) continue;
            if (g.index() >= from && g.index() < to) out.add(g);
            else parked.add(g);
        }
        ready.addAll(parked);
        out.sort(Comparator.comparingLong(Group::index));
        return out;
    }

    /**
     * Pushes {@code weights} as {@code version} to every healthy server, in parallel; a server that is down gets them
     * when it comes back. Returns the slowest server-side swap time.
     */
    public double publish(Weights weights, long version, LongFunction<Weights> corrupt) throws InterruptedException {
        currentWeights = weights;
        currentVersion = version;
        List<CompletableFuture<Double>> fs = new ArrayList<>();
        for (Backend b : backends) {
            if (!b.healthy) continue;
            fs.add(CompletableFuture.supplyAsync(() -> push(b, corrupt == null ? weights : corrupt.apply(version), version)));
        }
        double worst = 0;
        for (CompletableFuture<Double> f : fs) {
            try {
                worst = Math.max(worst, f.join());
            } catch (RuntimeException e) {
                // push() marked that server unhealthy; it is brought up to date when it recovers
            }
        }
        publishedVersion = version;
        return worst;
    }

    private double push(Backend b, Weights w, long version) {
        try {
            double s = b.client.pushWeights(w, version);
            b.servedVersion = version;
            return s;
        } catch (Exception e) {
            b.healthy = false;
            throw new IllegalStateException("push of version " + version + " to " + b.client.base() + " failed: " + e.getMessage(), e);
        }
    }

    /** Makes {@code version} live again on every server (a push that failed its canary check). */
    public void rollback(long version, Weights weightsOfVersion) throws Exception {
        currentWeights = weightsOfVersion;
        currentVersion = version;
        publishedVersion = version;
        for (Backend b : backends) {
            if (!b.healthy) continue;
            b.client.rollback(version);
            b.servedVersion = version;
        }
    }

    /** Servers used for canaries and evaluation: the healthy ones serving the current version. */
    public List<PolicyClient> current() {
        List<PolicyClient> out = new ArrayList<>();
        for (Backend b : backends) if (b.healthy && b.servedVersion == currentVersion) out.add(b.client);
        return out;
    }

    /** Every server, healthy ones first (evaluation falls back on them when none is known to be current). */
    public List<PolicyClient> all() {
        List<PolicyClient> out = new ArrayList<>();
        for (Backend b : backends) if (b.healthy) out.add(b.client);
        for (Backend b : backends) if (!b.healthy) out.add(b.client);
        return out;
    }

    private void checkHealth() {
        for (Backend b : backends) {
            // only servers marked down are probed: a healthy one mid-push belongs to publish(), which would race
            if (b.healthy) continue;
            if (!b.client.healthy()) continue;
            try {
                // one consistent (weights, version): a publish() running meanwhile must not mix the two
                Weights w = currentWeights;
                long v = currentVersion;
                if (w != null && b.servedVersion != v) {
                    long live = b.client.liveVersion();
                    if (live < v) b.client.pushWeights(w, v);
                    b.servedVersion = v;
                }
                // a newer version published meanwhile: catch up on the next round before taking load
                b.healthy = w == currentWeights;
            } catch (Exception e) {
                b.healthy = false;
            }
        }
    }

    private void checkFatal() {
        if (fatal != null) throw new IllegalStateException("rollout pipeline failed: " + fatal.getMessage(), fatal);
    }

    public long inFlight() {
        return inFlightGroups.get();
    }

    public int readyCount() {
        return ready.size();
    }

    public long retries() {
        return retries.get();
    }

    public long generatedTokens() {
        return generatedTokens.get();
    }

    public int healthyServers() {
        int n = 0;
        for (Backend b : backends) if (b.healthy) n++;
        return n;
    }

    @Override
    public void close() {
        health.shutdownNow();
        scoring.shutdownNow();
    }
}
