package dev.vaco.datasets;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/** Writes small Parquet files with the real parquet-java writer, for tests. */
final class TestParquet {

    private TestParquet() {
    }

    static MessageType schema(String text) {
        return MessageTypeParser.parseMessageType(text);
    }

    /** Rows map column name to String, Integer, Long, Boolean, Double or null (null = not written). */
    static Path write(Path file, MessageType schema, List<Map<String, Object>> rows, CompressionCodecName codec,
                      long rowGroupSizeBytes) throws IOException {
        return write(file, schema, rows, codec, rowGroupSizeBytes, ParquetProperties.WriterVersion.PARQUET_1_0);
    }

    static Path write(Path file, MessageType schema, List<Map<String, Object>> rows, CompressionCodecName codec,
                      long rowGroupSizeBytes, ParquetProperties.WriterVersion version) throws IOException {
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file))
                .withType(schema)
                .withConf(new PlainParquetConfiguration())
                .withCodecFactory(new ParquetCodecs())
                .withCompressionCodec(codec)
                .withRowGroupSize(rowGroupSizeBytes)
                .withPageSize(1024)
                .withWriterVersion(version)
                .build()) {
            SimpleGroupFactory f = new SimpleGroupFactory(schema);
            for (Map<String, Object> row : rows) {
                Group g = f.newGroup();
                row.forEach((k, v) -> {
                    if (v instanceof String s) {
                        g.append(k, s);
                    } else if (v instanceof Integer i) {
                        g.append(k, i);
                    } else if (v instanceof Long l) {
                        g.append(k, l);
                    } else if (v instanceof Boolean b) {
                        g.append(k, b);
                    } else if (v instanceof Double d) {
                        g.append(k, d);
                    } else if (v != null) {
                        throw new IllegalArgumentException("unsupported test value " + v);
                    }
                });
                w.write(g);
            }
        }
        return file;
    }

    static Path write(Path file, MessageType schema, List<Map<String, Object>> rows, CompressionCodecName codec)
            throws IOException {
        return write(file, schema, rows, codec, 128L * 1024 * 1024);
    }
}
