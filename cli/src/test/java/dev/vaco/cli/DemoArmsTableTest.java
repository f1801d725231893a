package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.trainer.controls.HeldOutEval;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's side-by-side table, from given curves: a column per level, the two means, arms.json the same numbers. */
class DemoArmsTableTest {
    @TempDir Path dir;

    private static DemoArms.Arm arm(String name, double minutes, Map<String, Double> start, Map<String, Double> end) {
        return new DemoArms.Arm(name, List.of(new HeldOutEval.Point(0, 0, 0, 0, 0, start),
                new HeldOutEval.Point(9, minutes, 0, 0, 0, end)));
    }

    private String table(List<DemoArms.Arm> arms, List<String> demonstrated, List<String> answerOnly) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DemoArms.report(arms, demonstrated, answerOnly, dir, new PrintStream(buf, true));
        return buf.toString();
    }

    @Test
    void levelsApartGetAColumnEachAndTheirMeans() throws Exception {
        var start = Map.of("6", 0.8, "7", 0.9, "1", 0.1, "2", 0.0);
        String t = table(List.of(arm("RL", 3, start, Map.of("6", 0.8, "7", 0.8, "1", 0.5, "2", 0.3)),
                arm("SFT", 3, start, Map.of("6", 1.0, "7", 1.0, "1", 0.1, "2", 0.1))), List.of("6", "7"), List.of("1", "2"));
        assertThat(t.lines().findFirst().orElseThrow().split("\\s+")).containsSubsequence("L6", "L7", "L1", "L2", "demonstrated", "answer-only");
        assertThat(t).contains("warm start").contains("85.0%").contains("40.0%").contains("100.0%");
        JsonNode rl = new ObjectMapper().readTree(dir.resolve("arms.json").toFile()).get(1);
        assertThat(rl.get("arm").asText()).isEqualTo("RL");
        assertThat(rl.get("answer_only").asDouble()).isEqualTo(0.4);
        assertThat(rl.get("demonstrated").asDouble()).isEqualTo(0.8);
        assertThat(dir.resolve("arms.svg")).isRegularFile();
    }

    /** sft.demonstrations: a limited set of RL's own level, one column, both means that level's accuracy. */
    @Test
    void theSameLevelOnBothSidesIsOneColumn() throws Exception {
        String t = table(List.of(arm("RL", 3, Map.of("1", 0.3), Map.of("1", 0.37))), List.of("1"), List.of("1"));
        String head = t.lines().findFirst().orElseThrow();
        assertThat(head.split("L1", -1)).hasSize(2);
        assertThat(t.lines().filter(l -> l.startsWith("RL")).findFirst().orElseThrow().split("37\\.0%", -1)).hasSize(4);
    }
}
