package dev.vaco.server.engine;

import java.util.Locale;

/**
 * Weight-only quantization of the served graph (vLLM's {@code --quantization}): the linear projections of every layer
 * (q|k|v, o, gate, up, down) become ONNX Runtime's {@code com.microsoft:MatMulNBits} over block-quantized weights;
 * activations, norms, attention and the KV cache stay fp32. Each block of {@code blockSize} consecutive input features
 * of one output row has its own fp32 scale and unsigned zero point ({@link BlockQuantizer}).
 *
 * @param name          {@code none}, {@code int8} or {@code int4} (the flag's value)
 * @param bits          8 or 4 (0 for none)
 * @param blockSize     input features per scale: a power of two >= 16 (MatMulNBits' rule)
 * @param accuracyLevel MatMulNBits' {@code accuracy_level}: 4 quantizes the activations to int8 per block on the fly and
 *                      runs integer dot products (AVX-512 VNNI here), 0/1 dequantizes the weights to fp32 in the kernel
 * @param head          also quantize lm_head ([V, H]; with tied embeddings a quantized copy beside the fp32 embedding,
 *                      which the Gather keeps reading): at a 128k vocabulary it is most of the bytes a decode step reads
 * @param fp32Scoring   each version also keeps an fp32 session of the same weights, for scoring in full precision
 *                      ({@code /v1/score} with {@code "precision": "fp32"}; {@code vaco serve --score-fp32}): an fp32
 *                      version's memory and session time on top of the quantized one's
 */
public record Quantization(String name, int bits, int blockSize, int accuracyLevel, boolean head, boolean fp32Scoring) {
    public static final Quantization NONE = new Quantization("none", 0, 0, 0, false);
    /**
     * Accuracy level 4 for both: ORT 1.23 has no fp32-activation kernel for 8-bit weights (level 0 dequantizes the whole
     * weight at every call: 1-14 tokens/s), and for 4-bit it was 1.3-2.3x slower. Block 128 for int8 (the fastest in the
     * sweep; its error stays small), 32 for int4 (block 128 doubled int4's KL to fp32). BENCHMARKS.md "Quantized rollouts".
     */
    public static final Quantization INT8 = new Quantization("int8", 8, 128, 4, true);
    public static final Quantization INT4 = new Quantization("int4", 4, 32, 4, true);

    public Quantization(String name, int bits, int blockSize, int accuracyLevel, boolean head) {
        this(name, bits, blockSize, accuracyLevel, head, false);
    }

    public Quantization {
        if (fp32Scoring && bits == 0) throw new IllegalArgumentException("fp32 scoring needs a quantization");
        if (bits != 0) {
            if (bits != 4 && bits != 8) throw new IllegalArgumentException("bits must be 4 or 8, got " + bits);
            if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
                throw new IllegalArgumentException("blockSize must be a power of two >= 16, got " + blockSize);
            }
            if (accuracyLevel < 0 || accuracyLevel > 4) {
                throw new IllegalArgumentException("accuracyLevel must be in [0, 4], got " + accuracyLevel);
            }
        }
    }

    /** The scheme of a flag value; {@code none}, {@code int8}, {@code int4} (case-insensitive). */
    public static Quantization parse(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "int8" -> INT8;
            case "int4" -> INT4;
            default -> throw new IllegalArgumentException("expected none, int8 or int4, got '" + value + "'");
        };
    }

    public boolean enabled() {
        return bits != 0;
    }

    public Quantization withBlock(int size, int level) {
        return new Quantization(name, bits, size, level, head, fp32Scoring);
    }

    public Quantization withHead(boolean h) {
        return new Quantization(name, bits, blockSize, accuracyLevel, h, fp32Scoring);
    }

    public Quantization withFp32Scoring(boolean s) {
        return new Quantization(name, bits, blockSize, accuracyLevel, head, s);
    }

    /** Blocks per output row: ceil(k / blockSize). */
    public int blocks(long k) {
        return (int) ((k + blockSize - 1) / blockSize);
    }

    /** Bytes of one block of quantized values: blockSize * bits / 8. */
    public int blobBytes() {
        return blockSize * bits / 8;
    }

    /** Bytes of zero points per output row: ceil(blocks * bits / 8) (4-bit ones two to a byte). */
    public int zeroPointBytesPerRow(long k) {
        return (blocks(k) * bits + 7) / 8;
    }
}
