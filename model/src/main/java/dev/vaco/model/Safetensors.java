package dev.vaco.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}}, then the raw
 * little-endian data, offsets relative to the end of the header.
 *
 * <p>Reading converts F32, F16 and BF16 to fp32 (real checkpoints are bf16; both engines here compute in fp32).
 * Every error names the origin (file or upload) and the tensor.
 */
public final class Safetensors {
    /** Element types this project reads; {@link #F32} is the only one computed with. */
    public enum DType {
        F32(4), F16(2), BF16(2);
        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20; // the reference implementation's limit

    private Safetensors() {}

    /** Reads one {@code .safetensors} file. */
    public static Map<String, Tensor> read(Path file) {
        return read(file, file.toString());
    }

    /** Reads one {@code .safetensors} file; errors name {@code origin} (e.g. "weight upload" for a spooled body). */
    public static Map<String, Tensor> read(Path file, String origin) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) return readLarge(ch, origin);
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && ch.read(buf) >= 0) { /* fill */ }
            buf.flip();
            return parse(buf, origin);
        } catch (IOException e) {
            throw new ModelFormatException(origin + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Map<String, Tensor> readLarge(FileChannel ch, String origin) throws IOException {
        // Files over 2 GB: map the file in regions, one per tensor (ByteBuffers are int-indexed).
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(len, 0);
        long n = len.flip().getLong();
        if (n <= 0 || n > MAX_HEADER || 8 + n > ch.size()) throw new ModelFormatException(origin + ": bad header length " + n);
        ByteBuffer header = ch.map(FileChannel.MapMode.READ_ONLY, 8, n);
        JsonNode root = parseHeader(header, origin);
        long dataStart = 8 + n, dataLen = ch.size() - dataStart;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            Entry entry = entry(e.getKey(), e.getValue(), dataLen, origin);
            ByteBuffer region = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + entry.begin, entry.end - entry.begin);
            out.put(e.getKey(), decode(e.getKey(), entry, region.order(ByteOrder.LITTLE_ENDIAN)));
        }
        return out;
    }

    /** Parses a whole safetensors image held in memory (a file, or the body of a weight upload). */
    public static Map<String, Tensor> parse(ByteBuffer image, String origin) {
        ByteBuffer b = image.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 8) throw new ModelFormatException(origin + ": truncated: " + b.remaining() + " bytes, no header length");
        long n = b.getLong(b.position());
        if (n <= 0 || n > MAX_HEADER || n > b.remaining() - 8) {
            throw new ModelFormatException(origin + ": bad header length " + n + " for " + b.remaining() + " bytes");
        }
        ByteBuffer header = b.duplicate().position(b.position() + 8).limit(b.position() + 8 + (int) n);
        JsonNode root = parseHeader(header, origin);
        int dataStart = b.position() + 8 + (int) n;
        long dataLen = b.limit() - dataStart;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            Entry entry = entry(e.getKey(), e.getValue(), dataLen, origin);
            ByteBuffer region = b.duplicate().position(dataStart + (int) entry.begin).limit(dataStart + (int) entry.end)
                    .slice().order(ByteOrder.LITTLE_ENDIAN);
            out.put(e.getKey(), decode(e.getKey(), entry, region));
        }
        return out;
    }

    /**
     * Parses an image held as consecutive chunks (every chunk but the last of one size), as a chunked weight relay
     * receives it: no copy of the whole image, which may exceed a Java array's 2 GB; each tensor is copied once from
     * the chunks into its own buffer.
     */
    public static Map<String, Tensor> parse(List<byte[]> chunks, String origin) {
        long size = 0;
        for (byte[] c : chunks) size += c.length;
        ChunkReader r = new ChunkReader(chunks);
        if (size < 8) throw new ModelFormatException(origin + ": truncated: " + size + " bytes, no header length");
        long n = r.copy(0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (n <= 0 || n > MAX_HEADER || n > size - 8) throw new ModelFormatException(origin + ": bad header length " + n + " for " + size + " bytes");
        JsonNode root = parseHeader(r.copy(8, (int) n), origin);
        long dataStart = 8 + n, dataLen = size - dataStart;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            Entry entry = entry(e.getKey(), e.getValue(), dataLen, origin);
            ByteBuffer region = r.copy(dataStart + entry.begin, Math.toIntExact(entry.end - entry.begin)).order(ByteOrder.LITTLE_ENDIAN);
            out.put(e.getKey(), entry.dtype == DType.F32 ? new Tensor(e.getKey(), entry.shape, region.asFloatBuffer())
                    : decode(e.getKey(), entry, region));
        }
        return out;
    }

    /** Random access to bytes spread over equal chunks. */
    private record ChunkReader(List<byte[]> chunks) {
        ByteBuffer copy(long from, int n) {
            ByteBuffer out = ByteBuffer.allocateDirect(n);
            int size = chunks.get(0).length;
            while (out.hasRemaining()) {
                byte[] c = chunks.get((int) (from / size));
                int at = (int) (from % size), k = Math.min(out.remaining(), c.length - at);
                out.put(c, at, k);
                from += k;
            }
            return out.flip();
        }
    }

    /** The {@code __metadata__} map of an image (string to string), empty when absent. */
    public static Map<String, String> metadata(ByteBuffer image, String origin) {
        ByteBuffer b = image.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 8) throw new ModelFormatException(origin + ": truncated: no header length");
        long n = b.getLong(b.position());
        if (n <= 0 || n > MAX_HEADER || n > b.remaining() - 8) throw new ModelFormatException(origin + ": bad header length " + n);
        JsonNode root = parseHeader(b.duplicate().position(b.position() + 8).limit(b.position() + 8 + (int) n), origin);
        Map<String, String> m = new LinkedHashMap<>();
        JsonNode md = root.get("__metadata__");
        if (md != null && md.isObject()) md.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }

    private record Entry(DType dtype, long[] shape, long begin, long end) {}

    private static JsonNode parseHeader(ByteBuffer header, String origin) {
        byte[] bytes = new byte[header.remaining()];
        header.duplicate().get(bytes);
        try {
            JsonNode root = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
            if (root == null || !root.isObject()) throw new ModelFormatException(origin + ": header is not a JSON object");
            return root;
        } catch (IOException e) {
            throw new ModelFormatException(origin + ": header is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static Entry entry(String name, JsonNode info, long dataLen, String origin) {
        String where = origin + ": tensor '" + name + "'";
        if (!info.isObject()) throw new ModelFormatException(where + ": header entry must be an object");
        DType dtype;
        try {
            dtype = DType.valueOf(info.path("dtype").asText());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(where + ": dtype " + info.path("dtype") + " is not one of F32, F16, BF16");
        }
        JsonNode s = info.path("shape"), o = info.path("data_offsets");
        if (!s.isArray() || !o.isArray() || o.size() != 2) throw new ModelFormatException(where + ": needs shape and data_offsets [begin, end]");
        long[] shape = new long[s.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!s.get(i).canConvertToLong() || s.get(i).asLong() < 0) throw new ModelFormatException(where + ": bad shape " + s);
            shape[i] = s.get(i).asLong();
        }
        long begin = o.get(0).asLong(-1), end = o.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen) {
            throw new ModelFormatException(where + ": data_offsets " + o + " outside the " + dataLen + " data bytes (file truncated?)");
        }
        long want = Tensor.numel(shape) * dtype.bytes;
        if (end - begin != want) {
            throw new ModelFormatException(where + ": " + (end - begin) + " bytes for shape " + s + " " + dtype + ", expected " + want);
        }
        return new Entry(dtype, shape, begin, end);
    }

    private static Tensor decode(String name, Entry e, ByteBuffer src) {
        int n = (int) Tensor.numel(e.shape);
        FloatBuffer dst = Tensor.allocate(n);
        switch (e.dtype) {
            case F32 -> dst.put(src.asFloatBuffer());
            case F16 -> { for (int i = 0; i < n; i++) dst.put(i, halfToFloat(src.getShort(2 * i))); }
            case BF16 -> { for (int i = 0; i < n; i++) dst.put(i, Float.intBitsToFloat((src.getShort(2 * i) & 0xffff) << 16)); }
        }
        dst.clear();
        return new Tensor(name, e.shape, dst);
    }

    // ---------------------------------------------------------------- writing

    /** The bytes before the data (length prefix, JSON header, space padding to 8) and the whole image's size. */
    private record Layout(byte[] head, long total) {}

    private static Layout layout(Collection<Tensor> tensors, Map<String, String> metadata, DType dtype) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode md = header.putObject("__metadata__");
            metadata.forEach(md::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode o = header.putObject(t.name());
            o.put("dtype", dtype.name());
            var shape = o.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            long len = t.numel() * dtype.bytes;
            o.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the data starts 8-byte aligned, padded with spaces as the spec allows
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        return new Layout(head.array(), 8L + padded + offset);
    }

    /** Size in bytes of the image {@link #toBytes} / {@link #write} would produce. */
    public static long imageSize(Collection<Tensor> tensors, Map<String, String> metadata, DType dtype) {
        return layout(tensors, metadata, dtype).total();
    }

    /**
     * Serialises {@code tensors} as one safetensors image in memory, converting from fp32 to {@code dtype}; images
     * over 2 GB do not fit one buffer ({@link #write} streams any size).
     */
    public static ByteBuffer toBytes(Collection<Tensor> tensors, Map<String, String> metadata, DType dtype) {
        Layout l = layout(tensors, metadata, dtype);
        if (l.total() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("safetensors image of " + l.total() + " bytes does not fit one buffer: stream it with write");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) l.total()).order(ByteOrder.LITTLE_ENDIAN);
        out.put(l.head());
        for (Tensor t : tensors) encode(t.data(), 0, t.data().capacity(), out, dtype);
        return out.flip();
    }

    /**
     * Streams the image to {@code ch}: the header, then every tensor encoded through a 1 MB buffer, so that its size
     * is bounded by the disk or the network, not by a Java array (2 GB: an fp32 model of 0.5B parameters, or the
     * optimiser moments of half that).
     */
    public static void write(WritableByteChannel ch, Collection<Tensor> tensors, Map<String, String> metadata, DType dtype)
            throws IOException {
        writeFully(ch, ByteBuffer.wrap(layout(tensors, metadata, dtype).head()));
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        int perChunk = chunk.capacity() / dtype.bytes;
        for (Tensor t : tensors) {
            int n = t.data().capacity();
            for (int from = 0; from < n; from += perChunk) {
                chunk.clear();
                encode(t.data(), from, Math.min(perChunk, n - from), chunk, dtype);
                writeFully(ch, chunk.flip());
            }
        }
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Appends elements [from, from + n) of {@code src} to {@code out} as {@code dtype}. */
    private static void encode(FloatBuffer src, int from, int n, ByteBuffer out, DType dtype) {
        switch (dtype) {
            case F32 -> {
                out.asFloatBuffer().put(src.duplicate().limit(from + n).position(from));
                out.position(out.position() + 4 * n);
            }
            case F16 -> { for (int i = from; i < from + n; i++) out.putShort(floatToHalf(src.get(i))); }
            case BF16 -> { for (int i = from; i < from + n; i++) out.putShort(toBf16(src.get(i))); }
        }
    }

    /** IEEE 754 binary16 to fp32, exact (Java 17 has no {@code Float.float16ToFloat}). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff, sign = (bits & 0x8000) << 16, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // inf / NaN
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            float sub = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact in fp32
            return sign == 0 ? sub : -sub;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** fp32 to binary16 with round to nearest even, overflow to infinity, as PyTorch's {@code .half()}. */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f), sign = (bits >>> 16) & 0x8000;
        float a = Math.abs(f);
        if (Float.isNaN(f)) return (short) (sign | 0x7e00);
        if (a >= 65520f) return (short) (sign | 0x7c00); // rounds to infinity
        if (a < 0x1p-14f) { // subnormal half: quantum 2^-24; Math.rint rounds half to even
            return (short) (sign | (int) Math.rint(a * 0x1p24f));
        }
        int abits = Float.floatToRawIntBits(a);
        int exp = (abits >>> 23) - 127 + 15, mant = abits & 0x7fffff;
        int half = (exp << 10) | (mant >>> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) half++; // carries into the exponent correctly
        return (short) (sign | half);
    }

    /** Round to nearest even, as {@code torch.Tensor.to(torch.bfloat16)} does; NaN stays NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Writes atomically: a temporary file in the same directory, then a rename, so readers never see half a file. */
    public static void write(Path file, Collection<Tensor> tensors, Map<String, String> metadata, DType dtype) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            write(ch, tensors, metadata, dtype);
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static void write(Path file, Collection<Tensor> tensors) throws IOException {
        write(file, tensors, Map.of("format", "pt"), DType.F32);
    }

    public static void writeTo(OutputStream out, ByteBuffer image) throws IOException {
        byte[] chunk = new byte[1 << 16];
        ByteBuffer b = image.duplicate();
        while (b.hasRemaining()) {
            int n = Math.min(chunk.length, b.remaining());
            b.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }
}
