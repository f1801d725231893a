package dev.vaco.server.engine;

import dev.vaco.model.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Asymmetric block quantization of an [N, K] weight in MatMulNBits' layout (the scheme of ONNX Runtime's own
 * quantizer with {@code is_symmetric=False}). For output row n and block j (input features j*bs .. j*bs+bs-1, the last
 * block zero-padded past K), with qmax = 2^bits - 1:
 * <pre>
 *   lo = min(0, min w),  hi = max(0, max w)          (the range always holds 0, so 0 is exact)
 *   scale = (hi - lo) / qmax                          (1 when the block is all zeros)
 *   zp    = clamp(round(-lo / scale), 0, qmax)
 *   q     = clamp(round(w / scale) + zp, 0, qmax)     and back:  w' = (q - zp) * scale,  |w - w'| <= scale / 2
 * </pre>
 * Layout: {@code data} uint8 [N, blocks, bs*bits/8] (4-bit: element 2i in the low nibble of byte i, 2i+1 in the high
 * one), {@code scales} fp32 [N * blocks], {@code zeroPoints} uint8 [N * ceil(blocks*bits/8)] (4-bit: two per byte, the
 * even block in the low nibble).
 */
public final class BlockQuantizer {
    private BlockQuantizer() {}

    /** One quantized weight; shapes as in the class comment. */
    public record Quantized(ByteBuffer data, FloatBuffer scales, ByteBuffer zeroPoints, int n, int k, Quantization scheme) {
        public long[] dataShape() {
            return new long[] {n, scheme.blocks(k), scheme.blobBytes()};
        }

        public long[] scalesShape() {
            return new long[] {(long) n * scheme.blocks(k)};
        }

        public long[] zeroPointsShape() {
            return new long[] {(long) n * scheme.zeroPointBytesPerRow(k)};
        }

        /** The stored value q of element (row, col) (tests and diagnostics). */
        public int q(int row, int col) {
            int blob = scheme.blobBytes(), bs = scheme.blockSize();
            long base = ((long) row * scheme.blocks(k) + col / bs) * blob;
            int i = col % bs;
            if (scheme.bits() == 8) return data.get((int) (base + i)) & 0xff;
            int b = data.get((int) (base + i / 2)) & 0xff;
            return (i & 1) == 0 ? b & 0x0f : b >>> 4;
        }

        /** The zero point of (row, block). */
        public int zeroPoint(int row, int block) {
            int per = scheme.zeroPointBytesPerRow(k);
            if (scheme.bits() == 8) return zeroPoints.get(row * per + block) & 0xff;
            int b = zeroPoints.get(row * per + block / 2) & 0xff;
            return (block & 1) == 0 ? b & 0x0f : b >>> 4;
        }

        public float scale(int row, int block) {
            return scales.get(row * scheme.blocks(k) + block);
        }

        /** Bytes held: quantized values, scales and zero points. */
        public long bytes() {
            return data.capacity() + 4L * scales.capacity() + zeroPoints.capacity();
        }
    }

    /** Quantizes {@code w} [n, k] (row-major, HF's [out, in]) with {@code s}; the buffers are direct, for ORT. */
    public static Quantized quantize(FloatBuffer w, int n, int k, Quantization s) {
        if (!s.enabled()) throw new IllegalArgumentException("no quantization scheme");
        if ((long) n * k > w.capacity()) throw new IllegalArgumentException("weight holds " + w.capacity() + " values, not " + n + " x " + k);
        int blocks = s.blocks(k), bs = s.blockSize(), blob = s.blobBytes(), zpRow = s.zeroPointBytesPerRow(k);
        int qmax = (1 << s.bits()) - 1;
        ByteBuffer data = ByteBuffer.allocateDirect(Math.multiplyExact(Math.multiplyExact(n, blocks), blob)).order(ByteOrder.nativeOrder());
        FloatBuffer scales = Tensor.allocate((long) n * blocks);
        ByteBuffer zps = ByteBuffer.allocateDirect(n * zpRow).order(ByteOrder.nativeOrder());
        int[] q = new int[bs];
        for (int row = 0; row < n; row++) {
            long rowBase = (long) row * k;
            for (int j = 0; j < blocks; j++) {
                int from = j * bs, to = Math.min(k, from + bs);
                float lo = 0, hi = 0;
                for (int c = from; c < to; c++) {
                    float v = w.get((int) (rowBase + c));
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
                float scale = hi > lo ? (hi - lo) / qmax : 1f;
                int zp = clamp(Math.round(-lo / scale), qmax);
                for (int i = 0; i < bs; i++) {
                    // padding past K holds the zero point: it dequantizes to exactly 0
                    q[i] = from + i < to ? clamp(Math.round(w.get((int) (rowBase + from + i)) / scale) + zp, qmax) : zp;
                }
                int at = (row * blocks + j) * blob;
                if (s.bits() == 8) {
                    for (int i = 0; i < bs; i++) data.put(at + i, (byte) q[i]);
                    zps.put(row * zpRow + j, (byte) zp);
                } else {
                    for (int i = 0; i < bs; i += 2) data.put(at + i / 2, (byte) (q[i] | q[i + 1] << 4));
                    int zi = row * zpRow + j / 2;
                    zps.put(zi, (byte) ((j & 1) == 0 ? (zps.get(zi) & 0xf0) | zp : (zps.get(zi) & 0x0f) | zp << 4));
                }
                scales.put(row * blocks + j, scale);
            }
        }
        return new Quantized(data, scales, zps, n, k, s);
    }

    private static int clamp(int v, int qmax) {
        return Math.max(0, Math.min(qmax, v));
    }
}
