package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ParquetLoaderTest {

    @TempDir
    Path dir;

    static final MessageType MATH_SCHEMA = TestParquet.schema("message m {"
            + " optional binary problem (STRING); optional binary solution (STRING); optional binary answer (STRING);"
            + " optional int64 level; optional binary subject (STRING); optional binary unique_id (STRING);"
            + " optional int32 extra; }");

    static List<Map<String, Object>> mathRows(int n) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> r = new HashMap<>();
            r.put("problem", "What is " + i + "+1? \u00e9\u2211"); // non-ASCII must survive
            r.put("solution", i % 3 == 0 ? null : "It is \\boxed{" + (i + 1) + "}.");
            r.put("answer", i % 3 == 1 ? null : Integer.toString(i + 1));
            r.put("level", i % 4 == 0 ? null : (long) (i % 5 + 1));
            r.put("subject", i % 2 == 0 ? "Algebra" : null);
            r.put("unique_id", "test/x/" + i + ".json");
            r.put("extra", i);
            rows.add(r);
        }
        return rows;
    }

    @ParameterizedTest
    @EnumSource(value = CompressionCodecName.class, names = {"SNAPPY", "ZSTD", "GZIP", "UNCOMPRESSED"})
    void readsBackWhatTheRealWriterWrote(CompressionCodecName codec) throws IOException {
        List<Map<String, Object>> rows = mathRows(500);
        // Small row groups: several groups, so row numbering across groups is exercised.
        Path f = TestParquet.write(dir.resolve("math-" + codec + ".parquet"), MATH_SCHEMA, rows, codec, 8 * 1024);

        List<Problem> got = Datasets.load(f, MathDataset.INSTANCE);

        assertThat(got).hasSize(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Map<String, Object> r = rows.get(i);
            Problem p = got.get(i);
            assertThat(p.id()).isEqualTo(r.get("unique_id"));
            assertThat(p.question()).isEqualTo(r.get("problem"));
            assertThat(p.solution()).isEqualTo(r.get("solution"));
            assertThat(p.goldAnswer()).isEqualTo(Integer.toString(i + 1)); // from answer, or from \boxed when null
            assertThat(p.level()).isEqualTo(r.get("level") == null ? null : r.get("level").toString());
            assertThat(p.subject()).isEqualTo(r.get("subject"));
            assertThat(p.source()).isEqualTo("math-" + codec);
        }
    }

    @Test
    void readsDataPageV2WithDeltaEncodings() throws IOException {
        List<Map<String, Object>> rows = mathRows(300);
        Path f = TestParquet.write(dir.resolve("v2.parquet"), MATH_SCHEMA, rows, CompressionCodecName.ZSTD, 4 * 1024,
                ParquetProperties.WriterVersion.PARQUET_2_0);

        List<Problem> got = Datasets.load(f, MathDataset.INSTANCE);

        assertThat(got).extracting(Problem::question).containsExactlyElementsOf(
                rows.stream().map(r -> (String) r.get("problem")).toList());
        assertThat(got).extracting(Problem::goldAnswer).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 300).mapToObj(i -> Integer.toString(i + 1)).toList());
    }

    @Test
    void genericMappingReadsIntsStringsAndNulls() throws IOException {
        MessageType schema = TestParquet.schema("message m { required binary q (STRING); optional int32 a;"
                + " optional binary lvl (STRING); optional boolean flag; }");
        List<Map<String, Object>> rows = List.of(
                Map.of("q", "one", "a", 1, "lvl", "Level 2", "flag", true),
                Map.of("q", "two", "a", -7));
        Path f = TestParquet.write(dir.resolve("g.parquet"), schema, rows, CompressionCodecName.SNAPPY);

        List<Problem> got = Datasets.load(f, new FieldMapping("q", "a", null, null, "lvl", null));

        assertThat(got).extracting(Problem::question).containsExactly("one", "two");
        assertThat(got).extracting(Problem::goldAnswer).containsExactly("1", "-7");
        assertThat(got).extracting(Problem::level).containsExactly("2", null);
        assertThat(got).extracting(Problem::id).containsExactly("g/0", "g/1");
    }

    @Test
    void missingFieldNamesFileRowAndField() throws IOException {
        List<Map<String, Object>> rows = mathRows(10);
        rows.get(6).put("problem", null);
        Path f = TestParquet.write(dir.resolve("holes.parquet"), MATH_SCHEMA, rows, CompressionCodecName.SNAPPY);

        assertThatThrownBy(() -> Datasets.load(f, MathDataset.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("holes.parquet")
                .hasMessageContaining("row 7")
                .hasMessageContaining("field 'problem'")
                .hasMessageContaining("expected a string");
    }

    @Test
    void absentColumnNamesFileRowAndField() throws IOException {
        MessageType schema = TestParquet.schema("message m { optional binary question (STRING); }");
        Path f = TestParquet.write(dir.resolve("noanswer.parquet"), schema, List.of(Map.of("question", "q")),
                CompressionCodecName.SNAPPY);

        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("noanswer.parquet: row 1: field 'answer': missing");
    }

    @Test
    void wrongTypeNamesFileRowAndField() throws IOException {
        MessageType schema = TestParquet.schema("message m { optional int64 question; optional binary answer (STRING); }");
        Path f = TestParquet.write(dir.resolve("types.parquet"), schema, List.of(Map.of("question", 5L, "answer",
                "x #### 1")), CompressionCodecName.SNAPPY);

        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("types.parquet: row 1: field 'question': expected a string, found number 5");
    }

    @Test
    void truncatedFileNamesFile() throws IOException {
        Path good = TestParquet.write(dir.resolve("full.parquet"), MATH_SCHEMA, mathRows(50),
                CompressionCodecName.SNAPPY);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.parquet");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));

        assertThatThrownBy(() -> Datasets.load(cut, MathDataset.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("cut.parquet")
                .hasMessageContaining("not a readable Parquet file");
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.parquet"));
        assertThatThrownBy(() -> Datasets.load(empty, MathDataset.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("empty.parquet");
    }

    @Test
    void zeroRowFileIsRejected() throws IOException {
        Path f = TestParquet.write(dir.resolve("zero.parquet"), MATH_SCHEMA, List.of(), CompressionCodecName.SNAPPY);
        assertThatThrownBy(() -> Datasets.load(f, MathDataset.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("zero.parquet: no records");
    }
}
