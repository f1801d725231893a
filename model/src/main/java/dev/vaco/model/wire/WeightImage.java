package dev.vaco.model.wire;

import dev.vaco.model.Safetensors;
import dev.vaco.model.Weights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A set of weights serialised once as the safetensors image a weight push sends (fp32, metadata {@code format=pt}):
 * one array, or a temporary file when larger than {@code inMemoryMax} (Java arrays stop at 2 GB, an fp32 model of
 * ~0.5B parameters). Sent to as many servers as needed without serialising again; {@link #close} deletes the file.
 */
public final class WeightImage implements AutoCloseable {
    private final byte[] bytes; // null: in the file
    private final Path file;
    private final long size;

    private WeightImage(byte[] bytes, Path file, long size) {
        this.bytes = bytes;
        this.file = file;
        this.size = size;
    }

    public static WeightImage of(Weights weights, long inMemoryMax) throws IOException {
        Map<String, String> md = Map.of("format", "pt");
        long size = Safetensors.imageSize(weights.tensors(), md, Safetensors.DType.F32);
        if (size <= inMemoryMax) {
            ByteBuffer image = Safetensors.toBytes(weights.tensors(), md, Safetensors.DType.F32);
            byte[] body = new byte[image.remaining()];
            image.get(body);
            return new WeightImage(body, null, size);
        }
        Path tmp = Files.createTempFile("vaco-push-", ".safetensors");
        try {
            Safetensors.write(tmp, weights.tensors(), md, Safetensors.DType.F32);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return new WeightImage(null, tmp, size);
    }

    public long size() {
        return size;
    }

    /** A fresh body for one request (each request reads the image anew). */
    public HttpRequest.BodyPublisher publisher() {
        try {
            return bytes != null ? HttpRequest.BodyPublishers.ofByteArray(bytes) : HttpRequest.BodyPublishers.ofFile(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Chunk digests and the whole image's digest, for {@code version} in chunks of {@code chunkBytes}. */
    public WeightManifest manifest(long version, int chunkBytes) throws IOException {
        MessageDigest whole = WeightManifest.newDigest();
        List<String> chunks = new ArrayList<>();
        if (bytes != null) {
            for (long off = 0; off < size; off += chunkBytes) {
                ByteBuffer c = ByteBuffer.wrap(bytes, (int) off, (int) Math.min(chunkBytes, size - off));
                whole.update(c.duplicate());
                chunks.add(WeightManifest.sha256Hex(c));
            }
        } else {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer c = ByteBuffer.allocateDirect(chunkBytes);
                for (long off = 0; off < size; off += chunkBytes) {
                    c.clear().limit((int) Math.min(chunkBytes, size - off));
                    while (c.hasRemaining()) if (ch.read(c, off + c.position()) < 0) throw new IOException(file + " shrank while read");
                    c.flip();
                    whole.update(c.duplicate());
                    chunks.add(WeightManifest.sha256Hex(c));
                }
            }
        }
        return new WeightManifest(version, size, chunkBytes, chunks, WeightManifest.hex(whole.digest()));
    }

    @Override
    public void close() throws IOException {
        if (file != null) Files.deleteIfExists(file);
    }
}
