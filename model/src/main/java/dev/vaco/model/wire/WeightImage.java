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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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

    /**
     * Chunk digests and the whole image's digest, for {@code version} in chunks of {@code chunkBytes}. The two are
     * computed side by side on two threads: each is a full SHA-256 pass over the image (~1.2 s per pass for a 0.5B
     * model's 2 GB at this machine's ~1.7 GB/s).
     */
    public WeightManifest manifest(long version, int chunkBytes) throws IOException {
        MessageDigest whole = WeightManifest.newDigest();
        List<String> chunks = new ArrayList<>();
        ExecutorService side = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vaco-chunk-digest");
            t.setDaemon(true);
            return t;
        });
        try (FileChannel ch = bytes != null ? null : FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = bytes != null ? null : ByteBuffer.allocateDirect(chunkBytes);
            for (long off = 0; off < size; off += chunkBytes) {
                int n = (int) Math.min(chunkBytes, size - off);
                ByteBuffer c;
                if (bytes != null) {
                    c = ByteBuffer.wrap(bytes, (int) off, n).slice();
                } else {
                    buf.clear().limit(n);
                    while (buf.hasRemaining()) if (ch.read(buf, off + buf.position()) < 0) throw new IOException(file + " shrank while read");
                    c = buf.flip();
                }
                Future<String> digest = side.submit(() -> WeightManifest.sha256Hex(c));
                whole.update(c.duplicate());
                chunks.add(digest.get()); // before the next read reuses the buffer
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while hashing the image", e);
        } catch (ExecutionException e) {
            throw new IOException("hashing the image failed", e.getCause());
        } finally {
            side.shutdownNow();
        }
        return new WeightManifest(version, size, chunkBytes, chunks, WeightManifest.hex(whole.digest()));
    }

    @Override
    public void close() throws IOException {
        if (file != null) Files.deleteIfExists(file);
    }
}
