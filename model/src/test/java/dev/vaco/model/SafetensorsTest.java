package dev.vaco.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsTest {
    @TempDir Path dir;

    private static Tensor random(String name, long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 8 - 4);
        return Tensor.of(name, shape, v);
    }

    @Test
    void roundTripIsBitExact() throws IOException {
        Tensor a = random("a.weight", 1, 3, 5), b = random("b", 2, 7);
        b.data().put(0, Float.NaN);
        b.data().put(1, -0.0f);
        b.data().put(2, Float.MIN_VALUE);
        Path f = dir.resolve("x.safetensors");
        Safetensors.write(f, List.of(a, b));
        Map<String, Tensor> back = Safetensors.read(f);
        assertThat(back.keySet()).containsExactly("a.weight", "b");
        for (Tensor t : List.of(a, b)) {
            Tensor u = back.get(t.name());
            assertThat(u.shape()).containsExactly(t.shape());
            for (int i = 0; i < t.numel(); i++) {
                assertThat(Float.floatToRawIntBits(u.get(i))).as(t.name() + "[" + i + "]")
                        .isEqualTo(Float.floatToRawIntBits(t.get(i)));
            }
        }
        // the data section starts 8-byte aligned, as the reference implementation writes it
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(raw.getLong(0) % 8).isZero();
    }

    @Test
    void halfAndBfloat16FilesLoadAsTheirFp32Upcast() throws IOException {
        Tensor t = random("w", 3, 64, 33);
        for (Safetensors.DType dt : List.of(Safetensors.DType.F16, Safetensors.DType.BF16)) {
            Path f = dir.resolve(dt + ".safetensors");
            Safetensors.write(f, List.of(t), Map.of(), dt);
            Tensor back = Safetensors.read(f).get("w");
            for (int i = 0; i < t.numel(); i++) {
                float x = t.get(i);
                // the oracle: an independent upcast of the rounded value
                float expected = dt == Safetensors.DType.BF16 ? bf16Oracle(x) : f16Oracle(x);
                assertThat(back.get(i)).as(dt + " element " + i).isEqualTo(expected);
            }
        }
    }

    /** Round to nearest even on the top 16 bits, by BigDecimal-free arithmetic on the double value. */
    private static float bf16Oracle(float x) {
        int bits = Float.floatToRawIntBits(x);
        float down = Float.intBitsToFloat(bits & 0xffff0000);
        float up = Float.intBitsToFloat((bits & 0xffff0000) + 0x10000);
        double dd = Math.abs((double) x - down), du = Math.abs((double) up - x);
        if (dd < du) return down;
        if (du < dd) return up;
        return ((bits >>> 16) & 1) == 0 ? down : up;
    }

    /** Nearest binary16 value by exhaustive search over the 65,536 codes (slow but obviously right). */
    private static float f16Oracle(float x) {
        float best = Float.NaN;
        double bestErr = Double.MAX_VALUE;
        for (int code = 0; code < 0x7c00; code++) { // finite non-negative halves
            float v = Safetensors.halfToFloat((short) code);
            v = Math.copySign(v, x);
            double err = Math.abs((double) v - x);
            if (err < bestErr || (err == bestErr && (code & 1) == 0)) { bestErr = err; best = v; }
        }
        return best;
    }

    @Test
    void halfDecodingCoversSubnormalsAndSpecials() {
        assertThat(Safetensors.halfToFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(Safetensors.halfToFloat((short) 0xc000)).isEqualTo(-2f);
        assertThat(Safetensors.halfToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Safetensors.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(Safetensors.halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Safetensors.halfToFloat((short) 0x7e00)).isNaN();
        assertThat(Safetensors.floatToHalf(1e6f)).isEqualTo((short) 0x7c00);
    }

    @Test
    void truncatedFileIsRefusedNamingTheFileAndTensor() throws IOException {
        Path f = dir.resolve("t.safetensors");
        Safetensors.write(f, List.of(random("layer.w", 4, 16, 16)));
        byte[] all = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 10));
        assertThatThrownBy(() -> Safetensors.read(cut)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("cut.safetensors").hasMessageContaining("layer.w").hasMessageContaining("truncated");
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Safetensors.read(junk)).hasMessageContaining("junk.safetensors");
        Path badJson = dir.resolve("bad.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + 8).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put("{nojson}".getBytes());
        Files.write(badJson, b.array());
        assertThatThrownBy(() -> Safetensors.read(badJson)).hasMessageContaining("not valid JSON");
    }

    @Test
    void wrongByteCountForShapeIsRefused() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes()).put(new byte[12]).flip();
        assertThatThrownBy(() -> Safetensors.parse(b, "upload")).hasMessageContaining("upload: tensor 'w'")
                .hasMessageContaining("expected 16");
        String i8 = "{\"w\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        ByteBuffer c = ByteBuffer.allocate(8 + i8.length() + 1).order(ByteOrder.LITTLE_ENDIAN);
        c.putLong(i8.length()).put(i8.getBytes()).put((byte) 0).flip();
        assertThatThrownBy(() -> Safetensors.parse(c, "upload")).hasMessageContaining("dtype \"I8\"");
    }

    @Test
    void theStreamedFileIsByteForByteTheInMemoryImage() throws IOException {
        // 300k + 7 elements: each tensor crosses the 1 MB chunks of the streamed writer at odd places in every dtype
        List<Tensor> ts = List.of(random("a", 1, 300_007), random("b", 2, 3, 5), random("c", 3, 1 << 19));
        for (Safetensors.DType dt : Safetensors.DType.values()) {
            Path f = dir.resolve("streamed-" + dt + ".safetensors");
            Safetensors.write(f, ts, Map.of("format", "pt"), dt);
            ByteBuffer image = Safetensors.toBytes(ts, Map.of("format", "pt"), dt);
            byte[] expected = new byte[image.remaining()];
            image.get(expected);
            assertThat(Files.readAllBytes(f)).as(dt.name()).isEqualTo(expected);
            assertThat(Files.size(f)).isEqualTo(Safetensors.imageSize(ts, Map.of("format", "pt"), dt));
        }
    }
}
