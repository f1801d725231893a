package dev.vaco.fleet;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A server announcement signed with the cluster's shared key: what a member without the keystore cannot forge. The
 * signature covers a canonical text of every field handed to the trainer, the announcing member's id (so an entry
 * copied under another member's key fails) and the cluster time it was signed at (so an old entry written back fails
 * after {@link #MAX_AGE_MS}). Announcers re-sign every {@link ServerAnnouncer#REFRESH_MS} ms, well inside that.
 */
final class SignedAnnouncement {
    /** How old (in Hazelcast's cluster time, the same on every member) a signature may be. */
    static final long MAX_AGE_MS = 30_000;
    static final String SIGNED_AT = "signed_at", SIGNATURE = "signature";

    private SignedAnnouncement() {}

    /** {@code a} as the map holds it, signed at cluster time {@code now}. */
    static JsonObject sign(ServerAnnouncement a, long now, ClusterCredential credential) {
        byte[] sig = credential.sign(canonical(a, now));
        return a.toJson().put(SIGNED_AT, now).put(SIGNATURE, Base64.getEncoder().encodeToString(sig));
    }

    /**
     * Why the entry under {@code memberId} must be refused at cluster time {@code now}, or null when it is the cluster
     * key's signature over exactly this announcement by this member, recent enough.
     */
    static String refusal(String memberId, JsonObject entry, long now, ClusterCredential credential) {
        Object at = entry.getValue(SIGNED_AT), sig = entry.getValue(SIGNATURE);
        if (!(at instanceof Number) || !(sig instanceof String s)) return "not signed by the cluster certificate";
        ServerAnnouncement a;
        byte[] signature;
        try {
            a = ServerAnnouncement.fromJson(entry);
            signature = Base64.getDecoder().decode(s);
        } catch (RuntimeException e) {
            return "not signed by the cluster certificate (malformed entry)";
        }
        long signedAt = ((Number) at).longValue();
        if (!memberId.equals(a.nodeId()) || !credential.verifies(canonical(a, signedAt), signature)) {
            return "not signed by the cluster certificate";
        }
        return staleness(entry, now);
    }

    /** Why an entry whose signature was verified is too old at {@code now}, or null. */
    static String staleness(JsonObject entry, long now) {
        long signedAt = entry.getLong(SIGNED_AT);
        return now - signedAt > MAX_AGE_MS ? "signature " + (now - signedAt) / 1000 + " s old (a replayed entry)" : null;
    }

    /** One field a line, in a fixed order, each as its text: the bytes do not depend on how JSON was encoded. */
    static byte[] canonical(ServerAnnouncement a, long signedAt) {
        StringBuilder b = new StringBuilder("vaco-server-announcement/1\n");
        b.append(a.nodeId()).append('\n').append(a.url()).append('\n').append(a.model()).append('\n')
                .append(a.maxNumSeqs()).append('\n').append(a.liveVersion()).append('\n');
        for (long v : a.residentVersions()) b.append(v).append(',');
        b.append('\n').append(signedAt).append('\n');
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
