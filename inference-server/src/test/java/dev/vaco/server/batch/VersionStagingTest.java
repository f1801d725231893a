package dev.vaco.server.batch;

import dev.vaco.model.MathTokenizer;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Staged versions on the real ORT engine: scoreable when pinned, sampling nothing until activated. */
class VersionStagingTest {
    static ModelConfig config = ModelInit.tinyConfig();
    static Weights w1 = ModelInit.random(config, 1), w2 = ModelInit.random(config, 2), w3 = ModelInit.random(config, 3);
    static Tokenizer tokenizer;

    @BeforeAll
    static void setUp() throws Exception {
        Path dir = Files.createTempDirectory("vaco-staging");
        MathTokenizer.write(dir);
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
    }

    private static SamplingParams sampling(int maxTokens, long seed) {
        return new SamplingParams(1, 1.0, 1.0, 0, maxTokens, List.of(), List.of(), seed, 0, true);
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    @Test
    void aStagedVersionIsScoredPinnedSamplesNothingUntilActivatedAndADropFreesIt() throws Exception {
        ServerMetrics metrics = new ServerMetrics();
        try (GenerationEngine e = new GenerationEngine(config, w1, 1, tokenizer, metrics,
                new EngineOptions(8, 16, 2, PolicyOptions.DEFAULT))) {
            int[] prompt = tokenizer.encode("Tom has 3 apples.");
            Sample before = get(e.submit(new GenerationRequest(prompt, sampling(60, 11), null), null)).samples().get(0);

            // a generation running while version 2 is staged: every token from version 1, the same tokens as before
            CompletableFuture<Generation> running = e.submit(new GenerationRequest(prompt, sampling(60, 11), null), null);
            get(e.stage(w2, 2));
            Sample during = get(running).samples().get(0);
            assertThat(during.versions()).containsOnly(1L);
            assertThat(during.tokenIds()).containsExactly(before.tokenIds());
            assertThat(e.liveVersion()).isEqualTo(1);
            assertThat(e.stagedVersions()).containsExactly(2L);
            assertThat(e.residentVersions()).containsExactly(1L, 2L);
            Sample after = get(e.submit(new GenerationRequest(prompt, sampling(60, 11), null), null)).samples().get(0);
            assertThat(after.tokenIds()).containsExactly(before.tokenIds());

            // scoreable pinned (the canary), and these are version 2's log-probs, not version 1's
            float[] staged = get(e.score(prompt, before.tokenIds(), 1.0, 2L));
            float[] live = get(e.score(prompt, before.tokenIds(), 1.0, 1L));
            assertThat(staged).isNotEqualTo(live);
            // generation pinned to it is refused: it must not sample before it is activated
            assertThatThrownBy(() -> e.submit(new GenerationRequest(prompt, sampling(5, 1), 2L), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("staged");

            get(e.activate(2));
            assertThat(e.liveVersion()).isEqualTo(2);
            assertThat(e.stagedVersions()).isEmpty();
            Sample v2 = get(e.submit(new GenerationRequest(prompt, sampling(60, 11), null), null)).samples().get(0);
            assertThat(v2.versions()).containsOnly(2L);
            assertThat(v2.tokenIds()).isNotEqualTo(before.tokenIds());
            // what the staged version scored is what the live version 2 computes now
            float[] nowLive = get(e.score(prompt, before.tokenIds(), 1.0, null));
            for (int t = 0; t < staged.length; t++) assertThat(nowLive[t]).isCloseTo(staged[t], within(1e-6f));

            // stage 3, drop it: no longer resident, remembered as dropped, cannot be activated, its number is spent
            get(e.stage(w3, 3));
            assertThat(e.residentVersions()).containsExactly(1L, 2L, 3L); // staged versions do not evict the K kept
            get(e.drop(3));
            assertThat(e.residentVersions()).containsExactly(1L, 2L);
            assertThat(e.stagedVersions()).isEmpty();
            assertThat(e.droppedVersions()).containsExactly(3L);
            get(e.drop(3)); // again: a no-op, so a retried drop is harmless
            assertThatThrownBy(() -> get(e.activate(3))).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("dropped");
            assertThatThrownBy(() -> e.stage(w3, 3)).isInstanceOf(InvalidRequestException.class).hasMessageContaining("greater");
            assertThat(e.liveVersion()).isEqualTo(2);
            assertThat(metrics.weightStaged.sum()).isEqualTo(2);
            assertThat(metrics.weightActivations.sum()).isEqualTo(1);
            assertThat(metrics.weightDrops.sum()).isEqualTo(1);
            assertThat(metrics.render()).doesNotContain("version=\"3\"");
        }
    }

    @Test
    void anImmediatePushOverAStagedVersionDropsItAndAtMostKAreStaged() throws Exception {
        try (GenerationEngine e = new GenerationEngine(config, w1, 1, tokenizer, new ServerMetrics(),
                new EngineOptions(8, 16, 2, PolicyOptions.DEFAULT))) {
            get(e.stage(w2, 2));
            get(e.stage(w3, 3));
            assertThatThrownBy(() -> e.stage(w2, 4)).isInstanceOf(InvalidRequestException.class).hasMessageContaining("staged");
            get(e.publish(w2, 5)); // live at once: the staged 2 and 3 can never be live and go
            assertThat(e.liveVersion()).isEqualTo(5);
            assertThat(e.stagedVersions()).isEmpty();
            assertThat(e.droppedVersions()).containsExactly(2L, 3L);
            assertThat(e.residentVersions()).containsExactly(1L, 5L);
        }
    }
}
