package dev.vaco.trainer.pipeline;

import dev.vaco.datasets.Problem;
import dev.vaco.learner.Rollout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A rejected version (dropped or rolled back) voids, on replay, the untrained groups with a token it sampled. */
class LedgerRejectedVersionsTest {
    @TempDir Path dir;

    private static List<Rollout> sampledBy(Problem p, long group, long... versions) {
        float[] lp = new float[versions.length];
        int[] tokens = new int[versions.length];
        return List.of(new Rollout(p, (int) group, new int[] {1, 2}, tokens, lp, versions, 1f, "CORRECT", "length"));
    }

    @Test
    void replayReissuesUntrainedGroupsSampledByARejectedVersionAndKeepsTheRest() throws Exception {
        Path file = dir.resolve("ledger.jsonl");
        Problem p = new Problem("p", "1+1?", "2", null, "synthetic", "1", null);
        try (Ledger l = new Ledger(file)) {
            for (long g = 0; g < 4; g++) l.admit(g, p, new int[] {1, 2}, 100 + g, null);
            l.scored(0, sampledBy(p, 0, 5, 6)); // trained before version 6 was rolled back: stays trained
            l.trained(List.of(0L), 1);
            l.scored(1, sampledBy(p, 1, 5, 6)); // untrained, a token of 6: sampled again
            l.scored(2, sampledBy(p, 2, 5, 5)); // untrained, only 5: kept
            l.scored(3, sampledBy(p, 3, 7, 7)); // untrained, a token of the dropped 7: sampled again
            l.rejected(6, "rollback");
            l.rejected(7, "dropped");
            assertThatThrownBy(() -> l.rejected(8, "removed")).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(Files.readString(file)).contains("{\"e\":\"rollback\",\"v\":6}", "{\"e\":\"dropped\",\"v\":7}");
        Map<Long, Ledger.Entry> r = Ledger.replay(file);
        assertThat(r.get(0L).trainedAtStep()).isEqualTo(1);
        assertThat(r.get(0L).scored()).isNotNull();
        assertThat(r.get(1L).scored()).isNull();
        assertThat(r.get(1L).seed()).isEqualTo(101); // re-issued with the same seed
        assertThat(r.get(2L).scored()).isNotNull();
        assertThat(r.get(3L).scored()).isNull();
        assertThat(Ledger.trainedCounts(file)).containsEntry(0L, 1).containsEntry(1L, 0);
    }
}
