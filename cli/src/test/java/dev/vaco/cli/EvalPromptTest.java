package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.datasets.Problem;
import dev.vaco.datasets.SyntheticMath;
import dev.vaco.model.ModelInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vaco eval --prompt builtin}: problems written like the built-in task's, in a file, are asked exactly as the
 * built-in task asks them (how the demo's warm start was probed on new question forms). Held to the synthetic dataset
 * itself: the same problems from a file give the same greedy completions, token for token, as {@code --dataset
 * synthetic}; the "Question: ... Answer:" prompt of a plain file gives others.
 */
class EvalPromptTest {
    @TempDir Path dir;

    @Test
    void aFileAskedWithTheBuiltInPromptReproducesTheSyntheticSet() throws Exception {
        Path model = dir.resolve("model");
        ModelInit.initTiny(model, 3);
        List<Problem> problems = SyntheticMath.testSet(6, 0);
        ObjectMapper json = new ObjectMapper();
        StringBuilder file = new StringBuilder();
        for (Problem p : problems) {
            file.append(json.writeValueAsString(Map.of("problem", p.question(), "answer", p.goldAnswer()))).append('\n');
        }
        Path jsonl = Files.writeString(dir.resolve("probe.jsonl"), file.toString());
        Map<Integer, String> synthetic = eval("synthetic", "auto", "s", problems);
        Map<Integer, String> builtin = eval(jsonl.toString(), "builtin", "b", problems);
        Map<Integer, String> plain = eval(jsonl.toString(), "plain", "p", problems);
        assertThat(synthetic).hasSize(6).containsOnlyKeys(0, 1, 2, 3, 4, 5);
        assertThat(builtin).isEqualTo(synthetic);
        assertThat(plain).isNotEqualTo(synthetic);

        MergeLoraCommandTest.assertExit2("vaco eval: --prompt must be chat, plain, builtin or auto, found 'raw'",
                "eval", "--model", model.toString(), "--dataset", jsonl.toString(), "--prompt", "raw");
    }

    /** Greedy completion of each problem, by its place in the set (a file's ids are "name/i", the synthetic set's its own). */
    private Map<Integer, String> eval(String dataset, String prompt, String out, List<Problem> problems) throws Exception {
        Path o = dir.resolve(out);
        String[] r = MergeLoraCommandTest.run("eval", "--model", dir.resolve("model").toString(), "--dataset", dataset,
                "--limit", "6", "--max-tokens", "12", "--temperature", "0", "--prompt", prompt, "--out", o.toString());
        assertThat(r[0]).as(r[1]).isEqualTo("0");
        Map<Integer, String> texts = new TreeMap<>();
        for (String line : Files.readAllLines(o.resolve("samples.jsonl"))) {
            JsonNode j = new ObjectMapper().readTree(line);
            String id = j.get("problem_id").asText();
            int place = -1;
            for (int i = 0; i < problems.size(); i++) if (problems.get(i).id().equals(id)) place = i;
            if (place < 0) place = Integer.parseInt(id.substring(id.lastIndexOf('/') + 1));
            texts.put(place, j.get("text").asText());
        }
        return texts;
    }
}
