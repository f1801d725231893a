package dev.vaco.server.batch;

import dev.vaco.model.MathTokenizer;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tokenizer;
import dev.vaco.model.Weights;
import dev.vaco.server.metrics.ServerMetrics;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The real ORT session on the tiny config with seeded random weights (random weights make varied tokens). */
class GenerationEngineTest {
    static ModelConfig config = ModelInit.tinyConfig();
    static Weights w1 = ModelInit.random(config, 1), w2 = ModelInit.random(config, 2);
    static Tokenizer tokenizer;
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("vaco-engine");
        MathTokenizer.write(dir);
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
    }

    private static GenerationEngine engine(EngineOptions o) {
        return new GenerationEngine(config, w1, 1, tokenizer, new ServerMetrics(), o);
    }

    private static SamplingParams sampling(int n, int maxTokens, long seed) {
        return new SamplingParams(n, 1.0, 1.0, 0, maxTokens, List.of(), List.of(), seed, 0, true);
    }

    private static Generation get(CompletableFuture<Generation> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    @Test
    void batchingGivesTheSameTokensAsDecodingAlone() throws Exception {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 8; i++) prompts.add(tokenizer.encode("What is " + (i * 37 + 5) + "+" + (i * 11) + "?" + "x".repeat(i)));
        List<Generation> alone = new ArrayList<>();
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            for (int i = 0; i < 8; i++) alone.add(get(e.submit(new GenerationRequest(prompts.get(i), sampling(2, 20 + 3 * i, 100 + i), null), null)));
        }
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            List<CompletableFuture<Generation>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) fs.add(e.submit(new GenerationRequest(prompts.get(i), sampling(2, 20 + 3 * i, 100 + i), null), null));
            for (int i = 0; i < 8; i++) {
                Generation g = get(fs.get(i));
                for (int s = 0; s < 2; s++) {
                    Sample a = alone.get(i).samples().get(s), b = g.samples().get(s);
                    assertThat(b.tokenIds()).as("request %d sample %d", i, s).containsExactly(a.tokenIds());
                    for (int t = 0; t < a.logprobs().length; t++) {
                        assertThat(b.logprobs()[t]).isCloseTo(a.logprobs()[t], within(1e-5f));
                    }
                    assertThat(b.versions()).containsOnly(1L);
                    assertThat(b.finishReason()).isEqualTo("length");
                }
            }
        }
    }

    @Test
    void rowsSampledInParallelOnALargeVocabularyDrawWhatOneRowAloneDraws() throws Exception {
        // a 128,256-token vocabulary makes the engine sample its rows on several threads (a row alone: one thread)
        Path tok = dev.vaco.model.SharedFiles.find("models/llama3-tokenizer");
        org.junit.jupiter.api.Assumptions.assumeTrue(tok != null, "../shared/models/llama3-tokenizer is absent");
        ModelConfig wide = new ModelConfig("llama", 128256, 16, 32, 1, 2, 1, 8, 1e-5, 500000.0, 64, true, false, 128000, 128001);
        Weights w = ModelInit.random(wide, 3);
        Path d = Files.createTempDirectory("vaco-wide");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) Files.copy(tok.resolve(f), d.resolve(f));
        try (Tokenizer t = Tokenizer.load(d)) {
            int[] prompt = t.encode("What is 12 + 30?");
            List<Generation> alone = new ArrayList<>();
            try (GenerationEngine e = new GenerationEngine(wide, w, 1, t, new ServerMetrics(), EngineOptions.DEFAULT)) {
                for (int i = 0; i < 6; i++) alone.add(get(e.submit(new GenerationRequest(prompt, sampling(1, 12, 40 + i), null), null)));
                List<CompletableFuture<Generation>> fs = new ArrayList<>();
                for (int i = 0; i < 6; i++) fs.add(e.submit(new GenerationRequest(prompt, sampling(1, 12, 40 + i), null), null));
                for (int i = 0; i < 6; i++) {
                    Sample a = alone.get(i).samples().get(0), b = get(fs.get(i)).samples().get(0);
                    assertThat(b.tokenIds()).as("request %d", i).containsExactly(a.tokenIds());
                    assertThat(b.logprobs()).containsExactly(a.logprobs());
                }
                // the six seeds do not all draw the same tokens (the comparison above means something)
                assertThat(alone.stream().map(g -> java.util.Arrays.toString(g.samples().get(0).tokenIds())).distinct().count())
                        .isGreaterThan(1);
            }
        }
    }

    @Test
    void generationConfigEosIdsEndASampleAsTheTokenizersEosDoes() throws Exception {
        int[] prompt = tokenizer.encode("Q: 3+4=?\nA:");
        SamplingParams greedy = new SamplingParams(1, 0.0, 1.0, 0, 8, List.of(), List.of(), 1L, 0, false);
        int first;
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            Sample s = get(e.submit(new GenerationRequest(prompt, greedy, null), null)).samples().get(0);
            first = s.tokenIds()[0];
            assertThat(s.tokenIds()).as("the greedy continuation runs past its first token").hasSizeGreaterThan(1);
        }
        // the same model directory with a generation_config.json that lists that token as an eos (as Llama 3.1
        // Instruct lists <|eom_id|> and <|eot_id|> beside <|end_of_text|>)
        Path d = Files.createTempDirectory("vaco-gen-config");
        MathTokenizer.write(d);
        Files.writeString(d.resolve("generation_config.json"), "{\"eos_token_id\": [" + tokenizer.eosId() + ", " + first + "]}");
        try (Tokenizer t = Tokenizer.load(d); GenerationEngine e = new GenerationEngine(config, w1, 1, t, new ServerMetrics(),
                EngineOptions.DEFAULT)) {
            assertThat(t.eosIds()).containsExactly(tokenizer.eosId(), first);
            Sample s = get(e.submit(new GenerationRequest(prompt, greedy, null), null)).samples().get(0);
            assertThat(s.tokenIds()).containsExactly(first);
            assertThat(s.finishReason()).isEqualTo("stop");
        }
    }

    @Test
    void maxModelLenCapsTheContextAndItsKvCache() throws Exception {
        // the tiny model has 384 positions; real ones have 32k-128k, whose preallocated KV cache would not fit
        EngineOptions o = new EngineOptions(4, 8, 1, EngineOptions.DEFAULT.policy(), 48);
        try (GenerationEngine e = engine(o)) {
            assertThat(e.contextLength()).isEqualTo(48);
            int[] prompt = new int[40];
            java.util.Arrays.fill(prompt, tokenizer.encode("7")[0]);
            assertThat(get(e.submit(new GenerationRequest(prompt, sampling(1, 8, 1), null), null)).samples().get(0).tokenIds())
                    .hasSize(8);
            assertThatThrownBy(() -> e.submit(new GenerationRequest(prompt, sampling(1, 9, 1), null), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("48");
            assertThatThrownBy(() -> e.submit(new GenerationRequest(new int[48], sampling(1, 1, 1), null), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("prompt");
        }
        try (GenerationEngine e = engine(new EngineOptions(4, 8, 1, EngineOptions.DEFAULT.policy(), 4096))) {
            assertThat(e.contextLength()).as("never beyond the model's").isEqualTo(config.maxPositionEmbeddings());
        }
        assertThatThrownBy(() -> new EngineOptions(4, 8, 1, EngineOptions.DEFAULT.policy(), -1))
                .hasMessageContaining("--max-model-len");
    }

    @Test
    void theKvBudgetSetsTheRowsOfEachBatch() throws Exception {
        // tiny model at 64 positions: 2 x 4 layers x 2 kv heads x 32 x 4 bytes x 64 = 128 KiB per row
        long row = 2L * config.numHiddenLayers() * config.numKeyValueHeads() * config.headDim() * 4 * 64;
        var policy = EngineOptions.DEFAULT.policy();
        try (GenerationEngine e = engine(new EngineOptions(64, 8, 3, policy, 64, 8 * row))) {
            assertThat(e.liveRows()).isEqualTo(4);   // half the budget: 4 rows
            assertThat(e.pinnedRows()).isEqualTo(2); // the other half shared by keepVersions - 1 = 2 pinned versions
            int[] prompt = tokenizer.encode("Q: 1+1=?\nA:");
            assertThat(get(e.submit(new GenerationRequest(prompt, sampling(4, 4, 1), null), null)).samples()).hasSize(4);
            assertThatThrownBy(() -> e.submit(new GenerationRequest(prompt, sampling(5, 4, 1), null), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("n must be at most 4");
            assertThatThrownBy(() -> e.submit(new GenerationRequest(prompt, sampling(3, 4, 1), 1L), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("at most 2").hasMessageContaining("pinned");
            assertThat(get(e.submit(new GenerationRequest(prompt, sampling(2, 4, 1), 1L), null)).samples()).hasSize(2);
        }
        assertThatThrownBy(() -> engine(new EngineOptions(64, 8, 3, policy, 64, row)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--kv-cache-memory-bytes");
        try (GenerationEngine e = engine(new EngineOptions(4, 8, 3, policy, 64, 1L << 40))) {
            assertThat(e.liveRows()).as("never more than --max-num-seqs").isEqualTo(4);
        }
    }

    @Test
    void behaviourLogprobsEqualAFullForwardScoreOfTheSameTokens() throws Exception {
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            int[] prompt = tokenizer.encode("Q: 12*7=?\nA:");
            SamplingParams sp = new SamplingParams(3, 0.8, 1.0, 0, 40, List.of(), List.of(), 7L, 0, true);
            Generation g = get(e.submit(new GenerationRequest(prompt, sp, null), null));
            assertThat(g.samples()).hasSize(3);
            for (Sample s : g.samples()) {
                float[] scored = e.score(prompt, s.tokenIds(), 0.8, null).get(30, TimeUnit.SECONDS);
                for (int t = 0; t < scored.length; t++) assertThat(s.logprobs()[t]).isCloseTo(scored[t], within(1e-4f));
            }
            // n samples drawn from one shared prefill differ from each other (different streams)
            assertThat(g.samples().get(0).tokenIds()).isNotEqualTo(g.samples().get(1).tokenIds());
        }
    }

    @Test
    void sameSeedSameTokensAndGreedyIsDeterministic() throws Exception {
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            int[] prompt = tokenizer.encode("1+1=");
            Generation a = get(e.submit(new GenerationRequest(prompt, sampling(1, 30, 5), null), null));
            Generation b = get(e.submit(new GenerationRequest(prompt, sampling(1, 30, 5), null), null));
            Generation c = get(e.submit(new GenerationRequest(prompt, sampling(1, 30, 6), null), null));
            assertThat(b.samples().get(0).tokenIds()).containsExactly(a.samples().get(0).tokenIds());
            assertThat(c.samples().get(0).tokenIds()).isNotEqualTo(a.samples().get(0).tokenIds());
            Generation unseeded = get(e.submit(new GenerationRequest(prompt,
                    new SamplingParams(1, 1, 1, 0, 30, List.of(), List.of(), null, 0, true), null), null));
            Generation replay = get(e.submit(new GenerationRequest(prompt, sampling(1, 30, unseeded.seed()), null), null));
            assertThat(replay.samples().get(0).tokenIds()).containsExactly(unseeded.samples().get(0).tokenIds());
        }
    }

    @Test
    void weightPushMidGenerationRetagsFromTheSwapOnAndChangesNothingBefore() throws Exception {
        int[] prompt = tokenizer.encode("Tom has 3 apples.");
        Generation reference;
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            reference = get(e.submit(new GenerationRequest(prompt, sampling(1, 200, 11), null), null));
        }
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            AtomicBoolean pushed = new AtomicBoolean();
            CompletableFuture<Double> swap = new CompletableFuture<>();
            TokenListener l = new TokenListener() {
                int seen;

                @Override
                public void onToken(int index, int token, float logprob, long version, int[] ti, float[] tl, String d) {
                    if (++seen == 10 && pushed.compareAndSet(false, true)) {
                        new Thread(() -> e.publish(w2, 2).whenComplete((s, x) -> {
                            if (x != null) swap.completeExceptionally(x); else swap.complete(s);
                        })).start();
                    }
                }

                @Override
                public void onFinish(int index, String reason, String d) { }
            };
            Generation g = get(e.submit(new GenerationRequest(prompt, sampling(1, 200, 11), null), l));
            assertThat(swap.get(30, TimeUnit.SECONDS)).isLessThan(1.0);
            long[] v = g.samples().get(0).versions();
            int switchAt = 0;
            while (switchAt < v.length && v[switchAt] == 1) switchAt++;
            assertThat(switchAt).as("tokens before the swap").isBetween(10, v.length - 1);
            for (int i = switchAt; i < v.length; i++) assertThat(v[i]).as("token %d", i).isEqualTo(2L);
            int[] ref = reference.samples().get(0).tokenIds(), got = g.samples().get(0).tokenIds();
            for (int i = 0; i < switchAt; i++) assertThat(got[i]).as("token %d before the swap", i).isEqualTo(ref[i]);
            assertThat(got).isNotEqualTo(ref);
            assertThat(e.liveVersion()).isEqualTo(2);

            // the old version stays resident and can be pinned: same tokens as before the push
            Generation pinnedOld = get(e.submit(new GenerationRequest(prompt, sampling(1, 200, 11), 1L), null));
            assertThat(pinnedOld.samples().get(0).tokenIds()).containsExactly(ref);
            assertThat(pinnedOld.samples().get(0).versions()).containsOnly(1L);
            assertThatThrownBy(() -> e.publish(w1, 2)).isInstanceOf(InvalidRequestException.class).hasMessageContaining("greater");
        }
    }

    @Test
    void onlyTheLastKVersionsStayResident() throws Exception {
        try (GenerationEngine e = engine(new EngineOptions(8, 16, 2, dev.vaco.server.engine.PolicyOptions.DEFAULT))) {
            e.publish(w2, 2).get(30, TimeUnit.SECONDS);
            e.publish(w1, 3).get(30, TimeUnit.SECONDS);
            assertThat(e.residentVersions()).containsExactly(2L, 3L);
            assertThatThrownBy(() -> e.submit(new GenerationRequest(tokenizer.encode("1"), sampling(1, 5, 1), 1L), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("not resident");
        }
    }

    @Test
    void stopStringsCutTheTextAndEndTheSample() throws Exception {
        try (GenerationEngine e = engine(EngineOptions.DEFAULT)) {
            int[] prompt = tokenizer.encode("abc");
            Generation free = get(e.submit(new GenerationRequest(prompt, sampling(1, 60, 3), null), null));
            String text = free.samples().get(0).text();
            String stop = text.substring(20, 22);
            int expectedCut = text.indexOf(stop);
            SamplingParams sp = new SamplingParams(1, 1, 1, 0, 60, List.of(stop), List.of(), 3L, 0, true);
            Generation g = get(e.submit(new GenerationRequest(prompt, sp, null), null));
            Sample s = g.samples().get(0);
            assertThat(s.finishReason()).isEqualTo("stop");
            assertThat(s.text()).isEqualTo(text.substring(0, expectedCut));
            assertThat(s.tokenIds().length).isLessThanOrEqualTo(expectedCut + stop.length());
        }
    }

    @Test
    void requestsBeyondTheContextOrQueueAreRefused() throws Exception {
        try (GenerationEngine e = engine(new EngineOptions(2, 1, 1, dev.vaco.server.engine.PolicyOptions.DEFAULT))) {
            int ctx = config.maxPositionEmbeddings();
            int[] longPrompt = new int[ctx];
            java.util.Arrays.fill(longPrompt, 10);
            assertThatThrownBy(() -> e.submit(new GenerationRequest(longPrompt, sampling(1, 1, 1), null), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("context");
            assertThatThrownBy(() -> e.submit(new GenerationRequest(new int[] {10, 11}, sampling(1, ctx, 1), null), null))
                    .satisfies(x -> assertThat(((InvalidRequestException) x).field()).isEqualTo("max_tokens"));
            assertThatThrownBy(() -> e.submit(new GenerationRequest(new int[] {10, 999}, sampling(1, 3, 1), null), null))
                    .hasMessageContaining("outside the vocabulary");
            assertThatThrownBy(() -> e.submit(new GenerationRequest(new int[] {10}, sampling(3, 3, 1), null), null))
                    .satisfies(x -> assertThat(((InvalidRequestException) x).field()).isEqualTo("n"));
            // fill the queue: rows busy with long generations, one waiting, the next refused
            List<CompletableFuture<Generation>> fs = new ArrayList<>();
            boolean refused = false;
            for (int i = 0; i < 10 && !refused; i++) {
                try {
                    fs.add(e.submit(new GenerationRequest(new int[] {10, 12}, sampling(2, 300, i), null), null));
                } catch (QueueFullException q) {
                    refused = true;
                }
            }
            assertThat(refused).isTrue();
            for (CompletableFuture<Generation> f : fs) assertThat(get(f).samples()).hasSize(2); // the engine keeps serving
        }
    }

    @Test
    void shutdownAbortsWhatCannotFinishInTime() throws Exception {
        GenerationEngine e = engine(EngineOptions.DEFAULT);
        CompletableFuture<Generation> f = e.submit(new GenerationRequest(new int[] {10, 12}, sampling(1, 380, 1), null), null);
        Thread.sleep(50);
        e.shutdown(Duration.ofMillis(1));
        Generation g = f.get(30, TimeUnit.SECONDS);
        assertThat(g.samples().get(0).finishReason()).isIn("abort", "length");
        assertThatThrownBy(() -> e.submit(new GenerationRequest(new int[] {10}, sampling(1, 3, 1), null), null))
                .isInstanceOf(IllegalStateException.class);
    }
}
