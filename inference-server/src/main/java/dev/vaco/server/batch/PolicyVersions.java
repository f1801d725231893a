package dev.vaco.server.batch;

import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.sampling.InvalidRequestException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The register of resident policy versions: which ORT session is live, which older ones stay for pinned requests, and
 * when a session may be closed. Kept apart from the scheduler because its rules (versions only increase, the newest K
 * stay, a session closes only once no pinned row runs on it) hold whatever the batching does.
 *
 * <p>Threads: the resident set is read from any thread (request validation, {@link #versions()}); it changes only on
 * the decode thread ({@link #makeLive}, {@link #rollBackTo}), as does every {@link Resident#pinnedRows} count.
 * {@link #claim} runs on the publishing thread.
 */
final class PolicyVersions {
    private final ConcurrentSkipListMap<Long, Resident> resident = new ConcurrentSkipListMap<>();
    private final int keep;
    private final ServerMetrics metrics;
    private volatile long live;
    private final Object publishLock = new Object();
    private long highestPublished; // guarded by publishLock: versions only increase
    /** Evicted versions whose pinned batch still runs (decode thread only): closed once it drains. */
    private final List<Resident> evictedInUse = new ArrayList<>();

    /** @param keep K: versions kept resident, the live one included */
    PolicyVersions(long version, OrtPolicy policy, int keep, ServerMetrics metrics) {
        this.keep = keep;
        this.metrics = metrics;
        resident.put(version, new Resident(version, policy));
        this.live = version;
        this.highestPublished = version;
        metrics.policyVersion.set(version);
    }

    long live() { return live; }

    /** Resident version numbers, oldest first. */
    List<Long> versions() { return new ArrayList<>(resident.keySet()); }

    boolean isResident(long version) { return resident.containsKey(version); }

    /** The resident {@code version}, or null. */
    Resident get(long version) { return resident.get(version); }

    /**
     * Runs {@code build} (which makes the session and queues its swap) if {@code version} is above every version
     * published so far. Holding the lock across {@code build} keeps swaps queued in version order.
     *
     * @throws InvalidRequestException the version is not new
     */
    void claim(long version, Runnable build) {
        synchronized (publishLock) {
            if (version <= highestPublished) {
                throw new InvalidRequestException("version", "version must be greater than the latest version "
                        + highestPublished + ", found " + version);
            }
            build.run();
            highestPublished = version;
        }
    }

    /** Decode thread: {@code version} becomes live; versions beyond the newest K are evicted. */
    void makeLive(long version, OrtPolicy policy) {
        resident.put(version, new Resident(version, policy));
        live = version;
        metrics.policyVersion.set(version);
        // keep the newest K; the live version is the newest
        while (resident.size() > keep) retire(resident.firstEntry().getValue());
    }

    /** Decode thread: the resident {@code version} becomes live again and every newer version is dropped. */
    void rollBackTo(long version) {
        if (!resident.containsKey(version)) throw new InvalidRequestException("version", "version " + version + " was evicted");
        for (Long newer : new ArrayList<>(resident.tailMap(version, false).keySet())) retire(resident.get(newer));
        live = version;
        metrics.policyVersion.set(version);
    }

    /** Leaves the resident set; its session closes now, or when its pinned batch drains. */
    private void retire(Resident r) {
        resident.remove(r.version);
        r.evicted = true;
        if (r.pinnedRows == 0) r.policy.close();
        else evictedInUse.add(r);
    }

    /**
     * The version a batch runs on: the live one ({@code pinnedVersion} null), or its pinned version, resident or
     * evicted while the batch still runs.
     */
    Resident serving(Long pinnedVersion) {
        if (pinnedVersion == null) return resident.get(live);
        Resident r = resident.get(pinnedVersion);
        if (r != null) return r;
        for (Resident e : evictedInUse) if (e.version == pinnedVersion) return e;
        throw new IllegalStateException("pinned version " + pinnedVersion + " lost its session");
    }

    /** Decode thread: the pinned batch of {@code version} has emptied; sessions evicted meanwhile may now close. */
    void drained(long version) {
        Resident r = resident.get(version);
        if (r != null) r.pinnedRows = 0;
        for (Iterator<Resident> it = evictedInUse.iterator(); it.hasNext(); ) {
            Resident e = it.next();
            if (e.pinnedRows <= 0) {
                e.policy.close();
                it.remove();
            }
        }
    }

    /** Closes the resident sessions (after the decode thread has stopped). */
    void closeAll() {
        for (Resident r : resident.values()) r.policy.close();
        resident.clear();
    }

    /** One version's session and how many rows of its pinned batch run on it. */
    static final class Resident {
        final long version;
        final OrtPolicy policy;
        volatile boolean evicted;
        int pinnedRows; // rows of a pinned batch running on it (decode thread only)

        Resident(long version, OrtPolicy policy) {
            this.version = version;
            this.policy = policy;
        }
    }
}
