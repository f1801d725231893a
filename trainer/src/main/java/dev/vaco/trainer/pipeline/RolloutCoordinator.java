package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.Problem;
import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.model.wire.WeightManifest;
import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;
import dev.vaco.learner.Rollout;
import dev.vaco.trainer.pipeline.ServerSet.Backend;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps groups in flight against one or more inference servers and hands scored groups to the learner.
 *
 * <p>Admission control instead of dropping (AReaL's rule): group g (numbered in admission order, B groups per learner
 * batch) is admitted only while {@code g < (p + eta + 1) * B}, p being the number of learner steps whose weights the
 * servers already serve. Every token of g is then sampled by a version at least p and trained by the learner at a
 * step at most p + eta, so no trained token lags more than eta versions; with eta = 0 this is the synchronous loop.
 * Nothing is dropped.
 *
 * <p>That bound holds only if the learner trains groups in admission order: {@link #takeOldest} waits for the B
 * lowest-numbered groups not yet trained, not the first B that are ready. Admission is tight: right after the push of
 * step p the groups up to (p + eta + 1) * B are admitted at p, so group g must be trained by step floor(g / B), which
 * is exactly its turn in admission order; every group that a "first ready" rule let overtake would push a slow group
 * past its deadline (eta = 1, B = 1: group 0 admitted at p = 0 and overtaken three times is trained at step 3, lag
 * 3). Waiting for the slow group costs at most the time it takes beyond the others, and only while nothing else can
 * be trained without breaking the bound; generation of the later groups goes on meanwhile. Measured with
 * RlTrainerTest's slow group (tiny model, one server, eta = 1, B = 2, 6 steps, group 0 held back until the server has
 * version 3 or 15 s): "first ready" never waited (pipeline/wait_s under 0.2 s a step) and trained group 0 at step 3
 * with lag 2; admission order waits 15.1 s at step 1 for it, then under 1 ms a step, every lag at most 1. When no
 * group is slow, the oldest groups are mostly the first ready anyway (they were sent first), so the two rules differ little.
 *
 * <p>Load goes to the healthy server with the fewest requests in flight ({@link ServerSet}). A request that fails
 * (connection refused, 5xx, timeout, or its server marked down: a frozen server misses its health probes) is re-issued
 * on another server with the same seed and pin, and its server is marked unhealthy until its {@code /health} answers
 * again, when it first receives the current weights, live at once.
 *
 * <p>New weights are staged on every server ({@link #stage}), checked by the caller against the staged version, and
 * only then made live everywhere ({@link #activate}) or discarded ({@link #drop}). A version that is dropped or rolled
 * back is <em>rejected</em>: the ledger says so, and a group with any token sampled by it is never trained but
 * re-issued with the same seed and pin (with staging a dropped version samples nothing; a rollback is what this
 * rule is for).
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

    /** The servers, their health and versions. */
    private final ServerSet servers;
    private final Sampling sampling;
    private final Verifier verifier;
    private final Ledger ledger;
    /** Groups issued or restored and not yet taken by the learner: admission order is their order. */
    private final ConcurrentSkipListSet<Long> untaken = new ConcurrentSkipListSet<>();
    private final PriorityBlockingQueue<Group> ready = new PriorityBlockingQueue<>(64, Comparator.comparingLong(Group::index));
    private final ExecutorService scoring = Executors.newSingleThreadExecutor(r -> daemon(r, "vaco-score"));
    private final ScheduledExecutorService health = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "vaco-health"));
    private final AtomicLong inFlightGroups = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private volatile Throwable fatal;
    /** Versions dropped or rolled back: no token they sampled is trained. */
    private final Set<Long> rejected = ConcurrentHashMap.newKeySet();
    private final WeightRelay relay = new WeightRelay(WeightManifest.DEFAULT_CHUNK);

    /** {@code out}: where servers going down and coming back are reported. */
    public RolloutCoordinator(List<PolicyClient> servers, Sampling sampling, Verifier verifier, Ledger ledger, PrintStream out) {
        if (servers.isEmpty()) throw new IllegalArgumentException("at least one inference server is needed");
        this.servers = new ServerSet(servers, health, out);
        this.sampling = sampling;
        this.verifier = verifier;
        this.ledger = ledger;
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Sends a group (new, or re-issued after a resume) to the least-loaded healthy server. */
    public void issue(Group g) {
        untaken.add(g.index());
        inFlightGroups.incrementAndGet();
        send(g, 0);
    }

    private void send(Group g, int attempt) {
        Backend b = servers.pick();
        if (b == null) { // every server is down: wait for one to come back
            health.schedule(() -> send(g, attempt), 200, TimeUnit.MILLISECONDS);
            return;
        }
        b.inFlight.incrementAndGet();
        var req = new PolicyClient.GenerateRequest(g.prompt(), sampling.groupSize(), sampling.temperature(), 1.0, 0,
                sampling.maxTokens(), List.of(), g.seed(), g.pinnedVersion(), false);
        CompletableFuture<PolicyClient.GenerateResponse> f;
        try {
            f = servers.track(b, b.client.generate(req)); // fails at once if b is marked down meanwhile
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
            if (!(cause instanceof PolicyClient.ServerException se2 && se2.status < 500) && b.healthy) {
                servers.markDown(b, "failed a request: " + cause.getMessage());
            }
            retries.incrementAndGet();
            health.schedule(() -> send(g, attempt + 1), Math.min(1000, 50L << Math.min(attempt, 4)), TimeUnit.MILLISECONDS);
        });
    }

    /**
     * Adds a server that joined mid-run. It starts unhealthy, so the health check first brings it to the current
     * weights (pushes them unless it already serves that version) and only then does it take groups.
     */
    public void addServer(PolicyClient client) {
        servers.add(client);
    }

    /**
     * Removes the server at {@code base} (it left the cluster): no new request goes there; requests in flight on it
     * fail at once and are re-issued elsewhere with the same seed and pin (an answer it sends later is ignored).
     */
    public void removeServer(URI base) {
        servers.remove(base);
    }

    /**
     * {@code call}, a request to {@code server} (a canary's score), failed at once if that server is marked down or
     * removed before it answers: a frozen server must not hold the caller for the call's own timeout.
     */
    public <T> CompletableFuture<T> tracked(PolicyClient server, CompletableFuture<T> call) {
        Backend b = servers.of(server);
        return b == null ? call : servers.track(b, call);
    }

    private void score(Group g, PolicyClient.GenerateResponse resp) {
        try {
            if (sampledByRejected(resp.samples().stream().map(PolicyClient.Completion::policyVersions).toList())) {
                retries.incrementAndGet();
                send(g, 0); // same seed and pin, on whatever serves now
                return;
            }
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
        untaken.add(g.index());
        ready.add(g);
    }

    /**
     * The {@code count} oldest groups not yet taken (in admission order), waiting until every one of them is scored:
     * a group that is ready earlier but younger waits its turn, so that none is overtaken past the staleness bound.
     */
    public List<Group> takeOldest(int count) throws InterruptedException {
        Map<Long, Group> held = new TreeMap<>();
        try {
            while (true) {
                checkFatal();
                List<Long> oldest = untaken.stream().limit(count).toList();
                if (oldest.size() == count && held.keySet().containsAll(oldest)) {
                    List<Group> out = new ArrayList<>();
                    for (long i : oldest) {
                        out.add(held.remove(i));
                        untaken.remove(i);
                    }
                    return out;
                }
                Group g = ready.poll(200, TimeUnit.MILLISECONDS);
                if (g != null) held.put(g.index(), g);
            }
        } finally {
            ready.addAll(held.values()); // younger groups that were ready stay ready for the next steps
        }
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
        for (Group g : out) untaken.remove(g.index());
        return out;
    }

    /**
     * Makes {@code weights} live as {@code version} on every healthy server without a check (the run's starting
     * weights, which the canaries compare against); a server that is down gets them when it comes back. Staged
     * everywhere first and then activated, so that the servers switch together rather than each as its own upload
     * ends (a resumed trainer's first push to a fleet under load: 2.2 s apart when pushed live). Returns the slowest
     * server-side time to a resident session.
     */
    public double publish(Weights weights, long version) throws InterruptedException {
        double worst = stage(weights, version).swapSeconds();
        activate(version, weights);
        return worst;
    }

    /**
     * Stages {@code weights} as {@code version} on every healthy server by a chunked relay ({@link WeightRelay}: the
     * trainer sends the image once): resident and scoreable when pinned ({@link #staged}), sampling nothing. Returns
     * what it cost: bytes sent, time to every server staged, the slowest server's time to a resident session.
     */
    public WeightRelay.Report stage(Weights weights, long version) {
        servers.staging = true; // until activate() or drop(): see ServerSet.staging
        List<Backend> targets = servers.backends.stream().filter(b -> b.healthy).toList();
        WeightRelay.Report r = relay.distribute(targets.stream().map(b -> b.client).toList(), weights, version, false,
                c -> { Backend b = servers.of(c); return b == null || !b.healthy || b.removed; });
        for (Backend b : targets) {
            if (r.failed().contains(b.client)) servers.markDown(b, "did not stage version " + version);
            else b.stagedVersion = version;
        }
        return r;
    }

    /**
     * Makes the staged {@code version} (the caller has checked it) live on every server that staged it; a healthy
     * server that did not is marked down, so that the health check first pushes it this version, live at once.
     */
    public void activate(long version, Weights weights) throws InterruptedException {
        servers.currentWeights = weights; // first: a server coming back from now on is brought to this version
        servers.currentVersion = version;
        for (Backend b : servers.backends) if (b.healthy && b.stagedVersion != version) servers.leaveBehind(b, version);
        servers.onEveryHealthy(version, b -> {
            b.client.activate(version);
            b.servedVersion = version;
            b.stagedVersion = -1;
            return 0.0;
        });
        servers.publishedVersion = version;
        servers.staging = false;
    }

    /** Discards the staged {@code version} everywhere (it failed its check) and rejects it. */
    public void drop(long version) throws InterruptedException {
        servers.onEveryHealthy(version, b -> {
            if (b.stagedVersion == version) b.client.drop(version);
            b.stagedVersion = -1;
            return 0.0;
        });
        servers.staging = false;
        reject(version, "dropped");
    }

    /** The healthy servers holding {@code version} staged: where its canaries are scored. */
    public List<PolicyClient> staged(long version) {
        return servers.staged(version);
    }

    /**
     * Makes {@code version} live again on every server and rejects every newer version that was live (an undo after
     * a later failure: groups with tokens from those versions are re-issued, never trained).
     */
    public void rollback(long version, Weights weightsOfVersion) throws Exception {
        long from = servers.currentVersion;
        servers.currentWeights = weightsOfVersion;
        servers.currentVersion = version;
        servers.publishedVersion = version;
        for (Backend b : servers.backends) {
            if (!b.healthy) continue;
            b.client.rollback(version);
            b.servedVersion = version;
        }
        for (long v = version + 1; v <= from; v++) reject(v, "rollback");
    }

    /**
     * Records {@code version} as rejected ({@code event}: dropped or rollback) and re-issues every ready group with a
     * token it sampled. Runs on the scoring thread, which is where groups become ready, so none slips past.
     */
    private void reject(long version, String event) {
        ledger.rejected(version, event);
        rejected.add(version);
        try {
            scoring.submit(() -> {
                List<Group> tainted = new ArrayList<>();
                for (Group g : ready) {
                    if (sampledByRejected(g.rollouts().stream().map(Rollout::versions).toList())) tainted.add(g);
                }
                for (Group g : tainted) {
                    if (!ready.remove(g)) continue;
                    inFlightGroups.incrementAndGet();
                    send(new Group(g.index(), g.problem(), g.prompt(), g.seed(), g.pinnedVersion(), null), 0);
                }
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            fatal = e.getCause();
        }
    }

    private boolean sampledByRejected(List<long[]> versionsPerSample) {
        if (rejected.isEmpty()) return false;
        for (long[] vs : versionsPerSample) for (long v : vs) if (rejected.contains(v)) return true;
        return false;
    }

    /** Servers used for canaries and evaluation: the healthy ones serving the current version. */
    public List<PolicyClient> current() {
        return servers.current();
    }

    /** Every server, healthy ones first (evaluation falls back on them when none is known to be current). */
    public List<PolicyClient> all() {
        return servers.all();
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
        return servers.healthyCount();
    }

    /** The pipeline now, for the dashboard: groups in flight and ready, and each server with the versions it holds. */
    public ObjectNode status() {
        ObjectNode o = JsonNodeFactory.instance.objectNode().put("in_flight_groups", inFlight())
                .put("ready_groups", readyCount()).put("generated_tokens", generatedTokens())
                .put("live_version", servers.currentVersion);
        ArrayNode list = o.putArray("servers");
        for (Backend b : servers.backends) {
            list.addObject().put("url", b.client.base().toString()).put("healthy", b.healthy)
                    .put("version", b.servedVersion).put("staged_version", b.stagedVersion).put("in_flight", b.inFlight.get());
        }
        return o;
    }

    @Override
    public void close() {
        health.shutdownNow();
        scoring.shutdownNow();
        relay.close();
        servers.close();
    }
}
