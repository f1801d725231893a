package dev.vaco.server.batch;

import dev.vaco.server.engine.OrtPolicy;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.sampling.InvalidRequestException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The register of resident policy versions: which ORT session is live, which older ones stay for pinned requests, which
 * newer ones are <em>staged</em> (resident and scoreable, but sampling nothing until activated), and when a session may
 * be closed. Kept apart from the scheduler because its rules (versions only increase, the newest K non-staged stay, a
 * staged version never samples, a session closes only once no pinned row runs on it) hold whatever the batching does.
 *
 * <p>Threads: the resident set is read from any thread (request validation, {@link #versions()}); it changes only on
 * the decode thread ({@link #makeLive}, {@link #stage}, {@link #activate}, {@link #drop}, {@link #rollBackTo}), as
 * does every {@link Resident#pinnedRows} count.
 * {@link #claim} runs on the publishing thread.
 */
final class PolicyVersions {
    private final ConcurrentSkipListMap<Long, Resident> resident = new ConcurrentSkipListMap<>();
    private final int keep;
    private final ServerMetrics metrics;
    /** Resident but not live: scoreable when pinned, never sampled from. Always above the live version. */
    private final ConcurrentSkipListSet<Long> staged = new ConcurrentSkipListSet<>();
    /** The latest versions dropped or rolled back (bounded): so that activating one names what happened to it. */
    private final ConcurrentSkipListSet<Long> dropped = new ConcurrentSkipListSet<>();
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

    /** Staged version numbers, oldest first. */
    List<Long> stagedVersions() { return new ArrayList<>(staged); }

    boolean isStaged(long version) { return staged.contains(version); }

    /** Versions dropped or rolled back lately (the newest {@value #DROPPED_REMEMBERED}), oldest first. */
    List<Long> droppedVersions() { return new ArrayList<>(dropped); }

    private static final int DROPPED_REMEMBERED = 64;

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

    /** Decode thread: {@code version} becomes live at once (a push without staging); see {@link #activate}. */
    void makeLive(long version, OrtPolicy policy) {
        resident.put(version, new Resident(version, policy));
        goLive(version);
    }

    /**
     * Decode thread: {@code version} becomes resident but not live. The staged set is bounded by K so that a client
     * that stages and never activates or drops cannot fill the memory with sessions.
     */
    void stage(long version, OrtPolicy policy) {
        if (staged.size() >= keep) {
            policy.close();
            throw new InvalidRequestException(409, "version", "already " + staged.size() + " staged versions " + staged
                    + " (at most " + keep + "): activate or drop one first");
        }
        staged.add(version); // before it is resident: a reader that sees it resident also sees it staged
        resident.put(version, new Resident(version, policy));
        metrics.weightStaged.increment();
        metrics.stagedVersions.set(staged.size());
    }

    /** Decode thread: the staged {@code version} becomes live; the live version itself is accepted again (a retry). */
    void activate(long version) {
        if (version == live && !staged.contains(version)) return;
        requireStaged(version, "activate");
        if (version < live) {
            throw new InvalidRequestException(409, "version", "staged version " + version + " is below the live version "
                    + live + " and can never be live: drop it");
        }
        goLive(version);
        metrics.weightActivations.increment();
    }

    /** Decode thread: the staged {@code version} is discarded; it never sampled a token. Dropping it again is a no-op. */
    void drop(long version) {
        if (dropped.contains(version) && !resident.containsKey(version)) return;
        requireStaged(version, "drop");
        retire(resident.get(version));
    }

    private void requireStaged(long version, String what) {
        if (staged.contains(version)) return;
        String why = dropped.contains(version) ? "was dropped or rolled back"
                : version == live ? "is the live version (POST /v1/weights/rollback goes back to an older one)"
                : resident.containsKey(version) ? "is an older resident version, not a staged one"
                : "is not resident; staged versions: " + staged;
        throw new InvalidRequestException(resident.containsKey(version) || dropped.contains(version) ? 409 : 404, "version",
                "cannot " + what + " version " + version + ": it " + why);
    }

    /**
     * {@code version} (resident) is live from the next decode step; staged versions below it can never be live and
     * are dropped; the newest K non-staged versions stay.
     */
    private void goLive(long version) {
        staged.remove(version);
        metrics.stagedVersions.set(staged.size());
        live = version;
        metrics.policyVersion.set(version);
        for (Long older : new ArrayList<>(staged.headSet(version))) retire(resident.get(older));
        List<Long> kept = new ArrayList<>(resident.keySet());
        kept.removeAll(staged);
        for (int i = 0; i < kept.size() - keep; i++) retire(resident.get(kept.get(i)));
    }

    /** Decode thread: the resident {@code version} becomes live again and every newer version is dropped. */
    void rollBackTo(long version) {
        if (!resident.containsKey(version)) throw new InvalidRequestException("version", "version " + version + " was evicted");
        if (staged.contains(version)) {
            throw new InvalidRequestException(409, "version", "version " + version + " is staged: POST /v1/weights/activate makes it live");
        }
        live = version; // first: the versions retired below are then above it, and remembered as rolled back
        metrics.policyVersion.set(version);
        for (Long newer : new ArrayList<>(resident.tailMap(version, false).keySet())) retire(resident.get(newer));
    }

    /** Leaves the resident set; its session closes now, or when its pinned batch drains. */
    private void retire(Resident r) {
        resident.remove(r.version);
        if (r.version > live || staged.contains(r.version)) { // never live, or rolled back: remembered as dropped
            if (staged.remove(r.version)) metrics.weightDrops.increment();
            dropped.add(r.version);
            while (dropped.size() > DROPPED_REMEMBERED) dropped.pollFirst();
            metrics.stagedVersions.set(staged.size());
        }
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
