package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.LevelMix;
import dev.vaco.datasets.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where training problems and held-out problems come from, on real GSM8K-format files. */
class DataCursorTest {
    @TempDir Path dir;

    /** n GSM8K records "How much is a + b?" with distinct questions; {@code tag} keeps two files apart. */
    private Path gsm8k(String name, String tag, int n) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(String.format("{\"question\": \"%s: how much is %d + %d?\", \"answer\": \"%d + %d = %d\\n#### %d\"}%n",
                    tag, i, 7, i, 7, i + 7, i + 7));
        }
        return Files.writeString(dir.resolve(name), b.toString());
    }

    private static Set<String> questions(List<Problem> ps) {
        Set<String> q = new HashSet<>();
        for (Problem p : ps) q.add(p.question());
        return q;
    }

    private static Set<String> draw(DataCursor c, int n) {
        Set<String> q = new HashSet<>();
        Iterator<Problem> it = c.train();
        for (int i = 0; i < n; i++) q.add(it.next().question());
        return q;
    }

    @Test
    void aSingleFileHoldsOutItsHeadAndNeverTrainsOnIt() throws Exception {
        Path file = gsm8k("gsm8k_train.jsonl", "train", 40);
        DataCursor c = new DataCursor(file.toString(), "", 10, 3, LevelMix.DEFAULT);
        List<Problem> heldOut = c.heldOut();
        assertThat(heldOut).hasSize(10);
        assertThat(heldOut.get(0).question()).startsWith("train: how much is 0 + 7");
        Set<String> trained = draw(c, 400); // ten passes over the 30 left
        assertThat(trained).hasSize(30).doesNotContainAnyElementsOf(questions(heldOut));
        // another seed draws the same pool in another order, and the same held-out set
        DataCursor other = new DataCursor(file.toString(), "", 10, 4, LevelMix.DEFAULT);
        assertThat(questions(other.heldOut())).isEqualTo(questions(heldOut));
        assertThat(draw(other, 400)).isEqualTo(trained);
    }

    @Test
    void anEvalDatasetIsUsedAsIsAndTheTrainingFileIsTrainedOnWhole() throws Exception {
        Path train = gsm8k("gsm8k_train.jsonl", "train", 40), test = gsm8k("gsm8k_test.jsonl", "test", 25);
        DataCursor c = new DataCursor(train.toString(), test.toString(), 10, 3, LevelMix.DEFAULT);
        assertThat(c.heldOut()).hasSize(10).allMatch(p -> p.question().startsWith("test: "));
        assertThat(draw(c, 400)).hasSize(40).allMatch(q -> q.startsWith("train: "));
    }

    @Test
    void aResumedCursorDrawsWhatTheUninterruptedOneWouldHave() throws Exception {
        Path file = gsm8k("gsm8k_train.jsonl", "train", 40);
        DataCursor a = new DataCursor(file.toString(), "", 10, 5, LevelMix.DEFAULT), b = new DataCursor(file.toString(), "", 10, 5, LevelMix.DEFAULT);
        List<String> first = new ArrayList<>();
        Iterator<Problem> ia = a.train();
        for (int i = 0; i < 70; i++) first.add(ia.next().question()); // crosses a reshuffle (30 per pass)
        b.skip(50);
        Iterator<Problem> ib = b.train();
        for (int i = 50; i < 70; i++) assertThat(ib.next().question()).as("draw %d", i).isEqualTo(first.get(i));
        assertThat(b.consumed()).isEqualTo(70);
    }

    /** A file's stream: every pass the whole pool, each in an order of its own (pass k in the order of seed + k). */
    @Test
    void everyPassOverAFileIsANewPermutation() throws Exception {
        Path file = gsm8k("gsm8k_train.jsonl", "train", 40);
        Iterator<Problem> it = new DataCursor(file.toString(), "", 10, 5, LevelMix.DEFAULT).train();
        List<List<String>> passes = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            List<String> pass = new ArrayList<>();
            for (int i = 0; i < 30; i++) pass.add(it.next().question());
            assertThat(new HashSet<>(pass)).hasSize(30);
            passes.add(pass);
        }
        assertThat(new HashSet<>(passes)).as("four passes, four orders").hasSize(4);
    }

    @Test
    void aFileTooSmallToHoldOutFromNamesBothKeys() throws Exception {
        Path file = gsm8k("small.jsonl", "train", 8);
        assertThatThrownBy(() -> new DataCursor(file.toString(), "", 8, 0, LevelMix.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("run.dataset " + file).hasMessageContaining("run.eval_problems = 8")
                .hasMessageContaining("run.eval_dataset");
    }

    @Test
    void theSyntheticTaskNeverTrainsOnItsTestSide() {
        DataCursor c = DataCursor.synthetic(0, LevelMix.of(1), 200);
        assertThat(draw(c, 5_000)).doesNotContainAnyElementsOf(questions(c.heldOut()));
    }

    /** Demonstrated and answer-only levels apart: the same number of held-out problems from each level, none trained on. */
    @Test
    void heldOutLevelsOfASplitTaskComeInEqualShares() {
        DataCursor c = new DataCursor("synthetic", "", 400, 3, LevelMix.of(8, 9), LevelMix.of(6, 7, 8, 9));
        List<Problem> held = c.heldOut();
        java.util.Map<String, Long> perLevel = new java.util.TreeMap<>();
        for (Problem p : held) perLevel.merge(p.level(), 1L, Long::sum);
        assertThat(perLevel).containsExactly(java.util.Map.entry("6", 100L), java.util.Map.entry("7", 100L),
                java.util.Map.entry("8", 100L), java.util.Map.entry("9", 100L));
        assertThat(questions(held)).hasSize(400);
        Set<String> trained = draw(c, 5_000);
        assertThat(trained).doesNotContainAnyElementsOf(questions(held));
        Iterator<Problem> it = c.train();
        for (int i = 0; i < 1_000; i++) assertThat(it.next().level()).isIn("8", "9"); // RL draws only its own levels
        // the same set for every run seed
        assertThat(new DataCursor("synthetic", "", 400, 99, LevelMix.of(8, 9), LevelMix.of(6, 7, 8, 9)).heldOut())
                .isEqualTo(held);
    }

    /**
     * A limited set of worked solutions (sft.demonstrations): the warm start cycles over exactly the first n distinct
     * problems, every pass a permutation of them, and RL's stream (and the demo's RFT control) never draws one of them.
     */
    @Test
    void limitedDemonstrationsAreCycledAndLeftOutOfRlsStream() {
        var cfg = dev.vaco.trainer.config.ConfigLoader.load(List.of("run.levels=1", "sft.demonstrations=300", "sft.seed=5",
                "run.seed=5"));
        List<Problem> first = DataCursor.firstDistinct(DataCursor.synthetic(5, LevelMix.of(1), 1).train(), 300);
        assertThat(questions(first)).hasSize(300);
        assertThat(DataCursor.demonstrationPool(cfg)).isEqualTo(first);
        Iterator<Problem> demos = DataCursor.cycle(DataCursor.demonstrationPool(cfg), 5);
        List<String> passOne = new ArrayList<>(), passTwo = new ArrayList<>();
        for (int i = 0; i < 300; i++) passOne.add(demos.next().question());
        for (int i = 0; i < 300; i++) passTwo.add(demos.next().question());
        assertThat(new HashSet<>(passOne)).isEqualTo(questions(first)).isEqualTo(new HashSet<>(passTwo));
        assertThat(passTwo).isNotEqualTo(passOne); // reshuffled every pass

        Set<String> demonstrated = DataCursor.demonstratedQuestions(cfg);
        assertThat(demonstrated).isEqualTo(questions(first));
        // the same seed as the warm start: without the exclusion RL's first 300 problems would be the demonstrations
        Set<String> rl = draw(DataCursor.synthetic(5, LevelMix.of(1), 1).excluding(demonstrated), 3_000);
        assertThat(rl).hasSizeGreaterThan(2_000).doesNotContainAnyElementsOf(demonstrated);
        // 0: no pool (the warm start then draws its stream itself)
        assertThat(DataCursor.demonstrationPool(dev.vaco.trainer.config.ConfigLoader.load(List.of("run.levels=1")))).isEmpty();
        // levels apart: the demonstrations are other levels' problems, nothing to leave out
        assertThat(DataCursor.demonstratedQuestions(dev.vaco.trainer.config.ConfigLoader.load(
                List.of("sft.levels=6", "run.levels=1", "sft.demonstrations=50")))).isEmpty();
        // more demonstrations than the levels have
        assertThatThrownBy(() -> DataCursor.firstDistinct(DataCursor.synthetic(0, LevelMix.of(6), 1).train(), 5_000))
                .hasMessageStartingWith("sft.demonstrations = 5000: the demonstrated problems have only");
    }
}
