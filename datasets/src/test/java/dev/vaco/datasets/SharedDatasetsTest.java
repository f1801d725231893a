package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The real GSM8K and MATH-500 files from shared/datasets, when present. */
class SharedDatasetsTest {

    static Path sharedDatasets() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared").resolve("datasets");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static Path require(String name) {
        Path dir = sharedDatasets();
        assumeTrue(dir != null, "skipped: no shared/datasets directory above " + Path.of("").toAbsolutePath());
        Path f = dir.resolve(name);
        assumeTrue(Files.isRegularFile(f), "skipped: " + f + " is absent");
        return f;
    }

    @Test
    void gsm8kTrainAndTestParseWithoutLoss() {
        List<Problem> train = Datasets.load(require("gsm8k_train.jsonl"), Gsm8k.INSTANCE);
        List<Problem> test = Datasets.load(require("gsm8k_test.jsonl"), Gsm8k.INSTANCE);

        assertThat(train).hasSize(7473);
        assertThat(test).hasSize(1319);
        for (Problem p : train.subList(0, train.size())) {
            assertThat(p.goldAnswer()).matches("-?\\d+(\\.\\d+)?");
            assertThat(p.solution()).isNotBlank();
        }
        assertThat(test).allSatisfy(p -> assertThat(p.goldAnswer()).matches("-?\\d+(\\.\\d+)?"));
        assertThat(test.get(0).goldAnswer()).isEqualTo("18");
        assertThat(test.stream().map(Problem::id).collect(Collectors.toSet())).hasSize(1319);
    }

    @Test
    void math500ParsesWithoutLoss() {
        List<Problem> math = Datasets.load(require("math500_test.jsonl"), MathDataset.INSTANCE);

        assertThat(math).hasSize(500);
        assertThat(new HashSet<>(math.stream().map(Problem::id).toList())).hasSize(500);
        assertThat(math).allSatisfy(p -> {
            assertThat(p.goldAnswer()).isNotBlank();
            assertThat(p.level()).isIn("1", "2", "3", "4", "5");
            assertThat(p.subject()).isNotBlank();
            assertThat(p.solution()).isNotBlank();
        });
        assertThat(math.get(2).goldAnswer()).isEqualTo("\\frac{14}{3}");
        assertThat(math.stream().map(Problem::subject).distinct().count()).isEqualTo(7);
        // Our local \boxed extraction agrees with the published answer on every row (it is the
        // fallback when a layout has no answer column).
        long agree = math.stream()
                .filter(p -> p.goldAnswer().equals(Boxed.lastBoxed(p.solution())))
                .count();
        assertThat(agree).isEqualTo(500);
    }
}
