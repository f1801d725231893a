package dev.vaco.model.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What a server needs to fetch a safetensors image from its peers in chunks and to know each chunk is the one the
 * trainer sent: the image's size, the chunk size, the SHA-256 of every chunk and of the whole. The trainer computes it
 * once per version ({@link WeightImage#manifest}); {@code POST /v1/weights/fetch} carries it as JSON.
 *
 * @param chunkBytes every chunk but the last has exactly this many bytes
 */
public record WeightManifest(long version, long size, int chunkBytes, List<String> chunkSha256, String sha256) {
    /** Smaller chunks cost a request each; larger ones delay the next hop of a chain by one chunk's transfer. */
    public static final int MIN_CHUNK = 1 << 10, MAX_CHUNK = 256 << 20, DEFAULT_CHUNK = 16 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A manifest that cannot be right; {@link #field} names the JSON field, for a 400 that says which. */
    public static final class Invalid extends IllegalArgumentException {
        public final String field;

        Invalid(String field, String message) {
            super(message);
            this.field = field;
        }
    }

    public WeightManifest {
        chunkSha256 = List.copyOf(chunkSha256);
        if (version < 0) throw new Invalid("manifest.version", "manifest.version must be >= 0, found " + version);
        if (size <= 0) throw new Invalid("manifest.size", "manifest.size must be > 0, found " + size);
        if (chunkBytes < MIN_CHUNK || chunkBytes > MAX_CHUNK) {
            throw new Invalid("manifest.chunk_bytes", "manifest.chunk_bytes must be in [" + MIN_CHUNK + ", " + MAX_CHUNK + "], found " + chunkBytes);
        }
        long n = (size + chunkBytes - 1) / chunkBytes;
        if (chunkSha256.size() != n) {
            throw new Invalid("manifest.chunk_sha256", "manifest.chunk_sha256 must list " + n + " digests for " + size
                    + " bytes in chunks of " + chunkBytes + ", found " + chunkSha256.size());
        }
        for (int i = 0; i < chunkSha256.size(); i++) checkHex("manifest.chunk_sha256[" + i + "]", chunkSha256.get(i));
        checkHex("manifest.sha256", sha256);
    }

    private static void checkHex(String field, String hex) {
        if (hex == null || !hex.matches("[0-9a-f]{64}")) {
            throw new Invalid(field, field + " must be 64 lowercase hex digits (a SHA-256), found '" + hex + "'");
        }
    }

    public int chunks() {
        return chunkSha256.size();
    }

    /** Bytes in chunk {@code i}: {@link #chunkBytes} but for the last. */
    public int chunkLength(int i) {
        return (int) Math.min(chunkBytes, size - (long) i * chunkBytes);
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode().put("version", version).put("size", size).put("chunk_bytes", chunkBytes);
        chunkSha256.forEach(o.putArray("chunk_sha256")::add);
        return o.put("sha256", sha256);
    }

    /** Reads a manifest; a missing or mistyped field is {@link Invalid} naming it. */
    public static WeightManifest fromJson(JsonNode j) {
        if (j == null || !j.isObject()) throw new Invalid("manifest", "manifest (an object) is required");
        JsonNode cs = j.path("chunk_sha256");
        if (!cs.isArray()) throw new Invalid("manifest.chunk_sha256", "manifest.chunk_sha256 (an array of hex digests) is required");
        String[] hex = new String[cs.size()];
        for (int i = 0; i < hex.length; i++) hex[i] = cs.get(i).isTextual() ? cs.get(i).asText() : null;
        return new WeightManifest(integer(j, "version"), integer(j, "size"), (int) Math.max(Integer.MIN_VALUE,
                Math.min(Integer.MAX_VALUE, integer(j, "chunk_bytes"))), List.of(hex).stream().map(h -> h == null ? "" : h).toList(),
                j.path("sha256").isTextual() ? j.path("sha256").asText() : null);
    }

    private static long integer(JsonNode j, String field) {
        JsonNode v = j.path(field);
        if (!v.isIntegralNumber()) throw new Invalid("manifest." + field, "manifest." + field + " (an integer) is required");
        return v.asLong();
    }

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    /** SHA-256 of {@code b}'s remaining bytes, in hex (b's position is unchanged). */
    public static String sha256Hex(ByteBuffer b) {
        MessageDigest md = newDigest();
        md.update(b.duplicate());
        return hex(md.digest());
    }
}
