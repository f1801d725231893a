package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlLoaderTest {

    @TempDir
    Path dir;

    private Path file(String name, String... lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    @Test
    void gsm8kSplitsSolutionAndGoldAndDropsThousandsCommas() throws IOException {
        Path f = file("gsm.jsonl",
                "{\"question\":\"How many?\",\"answer\":\"2 * 3 = <<2*3=6>>6\\n#### 6\"}",
                "",
                "{\"question\":\"Big?\",\"answer\":\"Lots.\\n#### 1,450,000\"}",
                "{\"question\":\"Neg?\",\"answer\":\"#### -3\"}");

        List<Problem> got = Datasets.load(f, Gsm8k.INSTANCE);

        assertThat(got).extracting(Problem::goldAnswer).containsExactly("6", "1450000", "-3");
        assertThat(got).extracting(Problem::solution).containsExactly("2 * 3 = <<2*3=6>>6", "Lots.", null);
        assertThat(got).extracting(Problem::id).containsExactly("gsm/0", "gsm/1", "gsm/2");
        assertThat(got.get(0).source()).isEqualTo("gsm");
    }

    @Test
    void mathTakesGoldFromLastBalancedBoxedWhenAnswerAbsent() throws IOException {
        Path f = file("math.jsonl",
                "{\"problem\":\"p\",\"solution\":\"First \\\\boxed{1}, then $\\\\boxed{\\\\frac{14}{3}}$.\","
                        + "\"level\":\"Level 3\",\"type\":\"Algebra\"}",
                "{\"problem\":\"q\",\"solution\":\"s\",\"answer\":\"7\",\"level\":5,\"subject\":\"Geometry\","
                        + "\"unique_id\":\"test/geometry/1.json\"}");

        List<Problem> got = Datasets.load(f, MathDataset.INSTANCE);

        assertThat(got.get(0).goldAnswer()).isEqualTo("\\frac{14}{3}");
        assertThat(got.get(0).level()).isEqualTo("3");
        assertThat(got.get(0).subject()).isEqualTo("Algebra");
        assertThat(got.get(0).id()).isEqualTo("math/0");
        assertThat(got.get(1).goldAnswer()).isEqualTo("7");
        assertThat(got.get(1).level()).isEqualTo("5");
        assertThat(got.get(1).id()).isEqualTo("test/geometry/1.json");
    }

    @Test
    void fieldMappingForOtherLayouts() throws IOException {
        Path f = file("other.jsonl", "{\"prompt\":\"2+2?\",\"target\":4,\"work\":\"2+2=4\",\"key\":\"a1\"}");

        List<Problem> got = Datasets.load(f, new FieldMapping("prompt", "target", "work", "key", null, null));

        assertThat(got).containsExactly(new Problem("a1", "2+2?", "4", "2+2=4", "other", null, null));
    }

    @Test
    void badJsonNamesFileAndLine() throws IOException {
        Path f = file("bad.jsonl", "{\"question\":\"q\",\"answer\":\"#### 1\"}", "{\"question\": oops}");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("bad.jsonl: line 2: invalid JSON");
    }

    @Test
    void nonObjectLineNamesFileAndLine() throws IOException {
        Path f = file("arr.jsonl", "[1,2]");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .hasMessageContaining("arr.jsonl: line 1: expected a JSON object, found array");
    }

    @Test
    void missingFieldNamesFileLineAndField() throws IOException {
        Path f = file("missing.jsonl", "{\"question\":\"q\",\"answer\":\"#### 1\"}", "", "{\"question\":\"q2\"}");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessage(f + ": line 3: field 'answer': missing (expected a string)");
    }

    @Test
    void wrongTypeNamesFileLineFieldExpectedAndFound() throws IOException {
        Path f = file("types.jsonl", "{\"question\":42,\"answer\":\"#### 1\"}");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .hasMessage(f + ": line 1: field 'question': expected a string, found number 42");

        Path g = file("types2.jsonl", "{\"problem\":\"p\",\"answer\":{\"a\":1}}");
        assertThatThrownBy(() -> Datasets.load(g, MathDataset.INSTANCE))
                .hasMessageContaining("types2.jsonl: line 1: field 'answer': expected a string, found object");
    }

    @Test
    void gsm8kWithoutMarkerNamesField() throws IOException {
        Path f = file("nomark.jsonl", "{\"question\":\"q\",\"answer\":\"just 5\"}");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .hasMessageContaining("nomark.jsonl: line 1: field 'answer': expected a final line '#### <gold>'");
    }

    @Test
    void mathWithoutAnswerOrBoxNamesField() throws IOException {
        Path f = file("nobox.jsonl", "{\"problem\":\"p\",\"solution\":\"no box {here\"}");
        assertThatThrownBy(() -> Datasets.load(f, MathDataset.INSTANCE))
                .hasMessageContaining("nobox.jsonl: line 1: field 'answer': missing");
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        Path f = Files.writeString(dir.resolve("empty.jsonl"), "\n\n");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("empty.jsonl: no records");
    }

    @Test
    void shardsOfOneSplitKeepDefaultIdsUnique() throws IOException {
        Path a = file("a.jsonl", "{\"question\":\"q0\",\"answer\":\"#### 1\"}", "{\"question\":\"q1\",\"answer\":\"#### 2\"}");
        Path b = file("b.jsonl", "{\"question\":\"q2\",\"answer\":\"#### 3\"}");
        List<Problem> got = Datasets.loadAll(List.of(a, b), Gsm8k.INSTANCE, "gsm8k");
        assertThat(got).extracting(Problem::id).containsExactly("gsm8k/0", "gsm8k/1", "gsm8k/2");
    }

    @Test
    void unknownExtensionIsRejected() throws IOException {
        Path f = file("x.csv", "a,b");
        assertThatThrownBy(() -> Datasets.load(f, Gsm8k.INSTANCE)).hasMessageContaining("expected a .jsonl");
    }
}
