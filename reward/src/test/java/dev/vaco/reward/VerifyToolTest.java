package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyToolTest {
    @TempDir
    Path dir;

    @Test
    void writesOneVerdictPerRowAndCounts() throws Exception {
        Path in = dir.resolve("in.jsonl");
        Path out = dir.resolve("out.jsonl");
        Files.write(in, List.of(
                "{\"id\":1,\"gold\":\"#### 1,450\",\"pred\":\"so \\\\boxed{1450}\"}",
                "",
                "{\"id\":2,\"gold\":\"$\\\\frac12$\",\"pred\":\"\\\\boxed{0.6}\"}",
                "{\"id\":3,\"gold\":\"#### 3\",\"pred\":\"I give up\"}"));
        VerifyTool.Counts c = VerifyTool.verifyJsonl(in, out, VerifierConfig.defaults());
        assertThat(c).isEqualTo(new VerifyTool.Counts(3, 1, 1, 1, 0, 0));
        List<String> rows = Files.readAllLines(out);
        assertThat(rows).hasSize(3);
        JsonNode first = new ObjectMapper().readTree(rows.get(0));
        assertThat(first.get("status").asText()).isEqualTo("CORRECT");
        assertThat(first.get("id").asInt()).isEqualTo(1);
        assertThat(first.get("line").asInt()).isEqualTo(1);
        assertThat(new ObjectMapper().readTree(rows.get(2)).get("status").asText()).isEqualTo("NO_ANSWER");
    }

    @Test
    void customFieldNamesAndPreExtractedGold() throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"answer\":\"72\",\"output\":\"The answer is \\\\boxed{72}\"}\n");
        VerifyTool.Counts c = VerifyTool.verifyJsonl(in, dir.resolve("o.jsonl"), VerifierConfig.strictDefaults(),
                new VerifyTool.Fields("answer", "output", true));
        assertThat(c.correct()).isEqualTo(1);
    }

    @Test
    void malformedLinesNameFileLineAndField() throws Exception {
        Path in = dir.resolve("bad.jsonl");
        Files.write(in, List.of("{\"gold\":\"1\",\"pred\":\"1\"}", "{\"gold\":\"1\",\"pred\":[1]}"));
        assertThatThrownBy(() -> VerifyTool.verifyJsonl(in, dir.resolve("o.jsonl"), VerifierConfig.defaults()))
                .isInstanceOf(VerifyTool.InputException.class)
                .hasMessageContaining("bad.jsonl:2").hasMessageContaining("field 'pred'").hasMessageContaining("ARRAY")
                .satisfies(e -> assertThat(((VerifyTool.InputException) e).line()).isEqualTo(2));
        Files.write(in, List.of("{\"gold\":\"1\"", "x"));
        assertThatThrownBy(() -> VerifyTool.verifyJsonl(in, dir.resolve("o.jsonl"), VerifierConfig.defaults()))
                .hasMessageContaining("bad.jsonl:1").hasMessageContaining("not valid JSON");
        Files.write(in, List.of("{\"pred\":\"1\"}"));
        assertThatThrownBy(() -> VerifyTool.verifyJsonl(in, dir.resolve("o.jsonl"), VerifierConfig.defaults()))
                .hasMessageContaining("field 'gold'").hasMessageContaining("missing");
    }

    @Test
    void invalidUtf8InTheFileStillGetsAVerdict() throws Exception {
        Path in = dir.resolve("bytes.jsonl");
        byte[] head = "{\"gold\":\"5\",\"pred\":\"\\\\boxed{5} ".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + 2 + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        all[head.length] = (byte) 0xC3;
        all[head.length + 1] = (byte) 0x28;
        System.arraycopy(tail, 0, all, head.length + 2, tail.length);
        Files.write(in, all);
        VerifyTool.Counts c = VerifyTool.verifyJsonl(in, dir.resolve("o.jsonl"), VerifierConfig.defaults());
        assertThat(c.correct()).isEqualTo(1);
    }
}
