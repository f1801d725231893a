package dev.vaco.datasets;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.xerial.snappy.Snappy;

/**
 * Page codecs for parquet-java without Hadoop's codec machinery. parquet-hadoop's default
 * {@code CodecFactory} goes through {@code org.apache.hadoop.io.compress} and Hadoop's
 * {@code Configuration}, which would pull in the whole Hadoop client (woodstox, guava, ...). Parquet's
 * codecs are plain block formats, so we call snappy-java, zstd-jni and java.util.zip directly.
 * Supported: UNCOMPRESSED, SNAPPY (what the Hugging Face Hub publishes), ZSTD, GZIP.
 */
final class ParquetCodecs implements CompressionCodecFactory {

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codec) {
        requireSupported(codec);
        return new BytesInputCompressor() {
            @Override
            public BytesInput compress(BytesInput input) throws IOException {
                byte[] raw = bytes(input);
                switch (codec) {
                    case UNCOMPRESSED:
                        return BytesInput.from(raw);
                    case SNAPPY:
                        return BytesInput.from(Snappy.compress(raw));
                    case ZSTD:
                        return BytesInput.from(Zstd.compress(raw, 3));
                    case GZIP: {
                        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
                            gz.write(raw);
                        }
                        return BytesInput.from(bytes.toByteArray());
                    }
                    default:
                        throw unsupported(codec);
                }
            }

            @Override
            public CompressionCodecName getCodecName() {
                return codec;
            }

            @Override
            public void release() {
            }
        };
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
        requireSupported(codec);
        return new BytesInputDecompressor() {
            @Override
            public BytesInput decompress(BytesInput input, int uncompressedSize) throws IOException {
                return BytesInput.from(decode(bytes(input), uncompressedSize));
            }

            @Override
            public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int uncompressedSize)
                    throws IOException {
                byte[] in = new byte[compressedSize];
                input.get(in);
                output.put(decode(in, uncompressedSize));
            }

            private byte[] decode(byte[] in, int size) throws IOException {
                byte[] out;
                switch (codec) {
                    case UNCOMPRESSED:
                        out = in;
                        break;
                    case SNAPPY:
                        if (Snappy.uncompressedLength(in) != size) {
                            throw new IOException("snappy page: expected " + size + " bytes, header says "
                                    + Snappy.uncompressedLength(in));
                        }
                        out = Snappy.uncompress(in);
                        break;
                    case ZSTD:
                        out = Zstd.decompress(in, size);
                        break;
                    case GZIP:
                        try (GZIPInputStream gz = new GZIPInputStream(new ByteArrayInputStream(in))) {
                            out = gz.readNBytes(size);
                        }
                        break;
                    default:
                        throw unsupported(codec);
                }
                if (out.length != size) {
                    throw new IOException(codec + " page: expected " + size + " uncompressed bytes, found " + out.length);
                }
                return out;
            }

            @Override
            public void release() {
            }
        };
    }

    @Override
    public void release() {
    }

    /** The whole input as an array (BytesInput.toByteArray is deprecated in parquet-java 1.15+). */
    private static byte[] bytes(BytesInput input) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(32, input.size()));
        input.writeAllTo(out);
        return out.toByteArray();
    }

    private static void requireSupported(CompressionCodecName codec) {
        switch (codec) {
            case UNCOMPRESSED:
            case SNAPPY:
            case ZSTD:
            case GZIP:
                return;
            default:
                throw unsupported(codec);
        }
    }

    private static UnsupportedOperationException unsupported(CompressionCodecName codec) {
        return new UnsupportedOperationException("Parquet codec " + codec
                + " is not supported; expected one of UNCOMPRESSED, SNAPPY, ZSTD, GZIP");
    }
}
