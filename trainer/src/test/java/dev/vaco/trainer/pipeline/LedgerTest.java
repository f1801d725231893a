package dev.vaco.trainer.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.datasets.Problem;
import dev.vaco.learner.Rollout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ledger on real files: a write torn by a kill is repaired on open; corruption elsewhere is refused. */
class LedgerTest {
    @TempDir Path dir;

    private static Problem problem(long g) {
        return new Problem("p" + g, "What is " + g + " + 1?", Long.toString(g + 1), null, "test", "1", "arithmetic");
    }

    private static List<Rollout> samples(long g, long version) {
        return List.of(new Rollout(problem(g), (int) g, new int[] {1, 2}, new int[] {5, 6, 7}, new float[] {-0.5f, -1f, -2f},
                new long[] {version, version, version}, 1f, "CORRECT", "stop"));
    }

    private static void admitAndScore(Ledger l, long from, long to, long version) {
        for (long g = from; g < to; g++) {
            l.admit(g, problem(g), new int[] {1, 2}, 100 + g, null);
            l.scored(g, samples(g, version));
        }
    }

    /** Cuts the file's last line in the middle of its object, as a kill mid-write leaves it. */
    private static String tearLastLine(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int lastStart = text.lastIndexOf('\n', text.length() - 2) + 1;
        String torn = text.substring(0, lastStart + (text.length() - 1 - lastStart) / 2);
        Files.writeString(file, torn, StandardCharsets.UTF_8);
        return text.substring(lastStart);
    }

    /** The untrained groups the way a resume finds them. */
    private static List<Long> pending(Path file) throws IOException {
        List<Long> out = new ArrayList<>();
        Ledger.replay(file).forEach((g, e) -> {
            if (e.trainedAtStep() == null) out.add(g);
        });
        return out;
    }

    @Test
    void aTornLastLineIsCutOnOpenSoTwoResumesTrainEveryGroupExactlyOnce() throws Exception {
        Path file = dir.resolve("run/ledger.jsonl");
        // the run: four groups; step 1 trains 0 and 1; killed while writing step 2's trained lines (2 and 3)
        try (Ledger l = new Ledger(file)) {
            assertThat(l.tornBytesRepaired()).isZero();
            admitAndScore(l, 0, 4, 1);
            l.trained(List.of(0L, 1L), 1);
            l.trained(List.of(2L, 3L), 2);
        }
        String cut = tearLastLine(file);
        assertThat(cut).contains("\"g\":3");
        assertThat(pending(file)).as("replay ignores an unrepaired torn tail").containsExactly(3L);

        // resume 1 from the checkpoint of step 1: the torn line goes, the resume marker gets a line of its own
        try (Ledger l = new Ledger(file)) {
            assertThat(l.tornBytesRepaired()).isEqualTo((cut.length() - 1) / 2);
            l.resume(1);
            assertThat(pending(file)).containsExactly(2L, 3L);
            l.trained(List.of(2L, 3L), 2);
            admitAndScore(l, 4, 6, 2);
            l.trained(List.of(4L, 5L), 3);
            l.admit(6, problem(6), new int[] {1, 2}, 106, null);
            l.scored(6, samples(6, 3));
        }
        // killed again, this time in the middle of group 6's scored record (step 3 was checkpointed)
        tearLastLine(file);

        try (Ledger l = new Ledger(file)) {
            assertThat(l.tornBytesRepaired()).isPositive();
            l.resume(3);
            Map<Long, Ledger.Entry> replayed = Ledger.replay(file);
            assertThat(pending(file)).containsExactly(6L);
            assertThat(replayed.get(6L).scored()).as("the torn scored record is gone: group 6 is sampled again").isNull();
            l.scored(6, samples(6, 4));
            l.trained(List.of(6L), 4);
        }

        // an independent reading: every line is a whole JSON object, and after the resume rule each group once
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(Files.readString(file)).endsWith("\n");
        Map<Long, List<Integer>> trainedAt = new TreeMap<>();
        int resumes = 0;
        for (String line : lines) {
            JsonNode o = json.readTree(line);
            assertThat(o.isObject()).as(line).isTrue();
            switch (o.path("e").asText()) {
                case "admit" -> assertThat(trainedAt.put(o.path("g").asLong(), new ArrayList<>())).isNull();
                case "trained" -> trainedAt.get(o.path("g").asLong()).add(o.path("step").asInt());
                case "resume" -> {
                    resumes++;
                    int s = o.path("step").asInt();
                    trainedAt.values().forEach(steps -> steps.removeIf(step -> step > s));
                }
                default -> { }
            }
        }
        assertThat(resumes).isEqualTo(2);
        assertThat(trainedAt.keySet()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L);
        trainedAt.forEach((g, steps) -> assertThat(steps).as("group %d", g).hasSize(1));
        assertThat(Ledger.trainedCounts(file).values()).containsOnly(1);
    }

    @Test
    void aMalformedLineBeforeTheTailIsRefusedNamingFileAndLine() throws Exception {
        Path file = dir.resolve("ledger.jsonl");
        try (Ledger l = new Ledger(file)) {
            admitAndScore(l, 0, 2, 1);
            l.trained(List.of(0L, 1L), 1);
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        lines.set(2, lines.get(2).substring(0, 10)); // line 3: cut short, but followed by more lines
        Files.write(file, lines);
        byte[] before = Files.readAllBytes(file);

        // opening it cuts nothing (the file ends with '\n'), and every reader refuses it
        try (Ledger l = new Ledger(file)) {
            assertThat(l.tornBytesRepaired()).isZero();
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
        assertThatThrownBy(() -> Ledger.replay(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("line 3 is not a JSON object");
        assertThatThrownBy(() -> Ledger.trainedCounts(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("line 3");
    }

    @Test
    void aMalformedLastLineThatEndsWithNewlineIsCorruptionNotATornWrite() throws Exception {
        Path file = dir.resolve("ledger.jsonl");
        try (Ledger l = new Ledger(file)) {
            admitAndScore(l, 0, 1, 1);
        }
        Files.writeString(file, "{\"e\":\"trained\",\"g\":0,\"st\n", java.nio.file.StandardOpenOption.APPEND);
        assertThatThrownBy(() -> Ledger.replay(file)).hasMessageContaining("line 3");
    }

    @Test
    void aWholeRecordMissingOnlyItsNewlineWasNeverAcknowledgedAndIsCut() throws Exception {
        Path file = dir.resolve("ledger.jsonl");
        try (Ledger l = new Ledger(file)) {
            admitAndScore(l, 0, 2, 1);
        }
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length - 1));
        try (Ledger l = new Ledger(file)) {
            assertThat(l.tornBytesRepaired()).isPositive();
            l.resume(0);
        }
        assertThat(Ledger.replay(file).get(1L).scored()).isNull();
        assertThat(Files.readAllLines(file)).hasSize(4).last().asString().contains("resume");
    }
}
