package dev.vaco.server.engine;

import dev.vaco.model.NaiveLlama;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OrtPolicyTest {
    private static final double ORACLE_TOL = 1e-4;

    static Stream<Arguments> configsAndLayouts() {
        List<Arguments> out = new ArrayList<>();
        for (ModelConfig c : OrtTestModels.all()) out.add(Arguments.of(c, GraphOptions.DEFAULT));
        // the other layouts on two configs: they must compute the same function
        for (ModelConfig c : List.of(OrtTestModels.MHA_BIAS_ODD, OrtTestModels.QWEN2)) {
            out.add(Arguments.of(c, new GraphOptions(false, false, true)));
            out.add(Arguments.of(c, new GraphOptions(true, false, true)));
            out.add(Arguments.of(c, new GraphOptions(false, true, false)));
        }
        return out.stream();
    }

    static Stream<ModelConfig> configs() {
        return OrtTestModels.all().stream();
    }

    @ParameterizedTest
    @MethodSource("configsAndLayouts")
    void fullPassMatchesNaiveReference(ModelConfig c, GraphOptions layout) {
        Weights w = OrtTestModels.weights(c, 11);
        int[] tokens = OrtTestModels.tokens(c, 23, 5);
        double[][] expected = new NaiveLlama(c, w).logits(tokens);
        try (OrtPolicy p = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withGraph(layout))) {
            float[][] got = p.logits(tokens);
            assertThat(got.length).isEqualTo(tokens.length);
            assertThat(maxAbsDiff(got, expected)).as("max |ort - reference|").isLessThan(ORACLE_TOL);
            // the logits are not trivially small: the tolerance means something
            assertThat(maxAbs(expected)).isGreaterThan(0.5);
        }
    }

    /** Without prepacking the session reads the caller's buffers in place: same function, and it follows them. */
    @ParameterizedTest
    @MethodSource("configs")
    void inPlaceWeightsWithoutPrepackMatchNaiveReference(ModelConfig c) {
        Weights w = OrtTestModels.weights(c, 11);
        int[] tokens = OrtTestModels.tokens(c, 23, 5);
        double[][] expected = new NaiveLlama(c, w).logits(tokens);
        try (OrtPolicy p = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withPrepack(false))) {
            assertThat(maxAbsDiff(p.logits(tokens), expected)).as("max |ort - reference|").isLessThan(ORACLE_TOL);
            // in place: a weight changed after creation is what the session reads (no copy was made)
            w.get("model.norm.weight").data().put(0, 1e6f);
            assertThat(maxAbsDiff(p.logits(tokens), expected)).isGreaterThan(1.0);
        }
    }

    /**
     * OrtPolicy closes its tensors over the caller's buffers once the session exists and keeps no reference to the
     * weights, which is safe only because ONNX Runtime copies external initializers at session creation: if a new ORT
     * read them in place, zeroing them here would change the logits (or crash once they were collected).
     */
    @ParameterizedTest
    @MethodSource("configs")
    void sessionKeepsItsOwnCopyOfTheWeights(ModelConfig c) {
        Weights w = OrtTestModels.weights(c, 13);
        int[] tokens = OrtTestModels.tokens(c, 31, 5);
        try (OrtPolicy p = OrtPolicy.create(c, w)) {
            float[][] before = p.logits(tokens);
            for (dev.vaco.model.Tensor t : w.tensors()) {
                for (int i = 0; i < t.data().capacity(); i++) t.data().put(i, 0f);
            }
            System.gc();
            double m = 0;
            for (float[] r : before) for (float v : r) m = Math.max(m, Math.abs(v));
            assertThat(m).as("the logits are not all zero: zeroed weights would change them").isGreaterThan(0.5);
            assertThat(p.logits(tokens)).isDeepEqualTo(before);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void prefillThenDecodeMatchesFullPass(ModelConfig c) {
        Weights w = OrtTestModels.weights(c, 12);
        int[] tokens = OrtTestModels.tokens(c, 30, 6);
        try (OrtPolicy p = OrtPolicy.create(c, w)) {
            float[][] full = p.logits(tokens);
            KvCache cache = p.newCache(2, 40);
            int prompt = 9;
            float[][] pre = p.prefillAll(cache, 0, slice(tokens, 0, prompt));
            for (int i = 0; i < prompt; i++) assertThat(maxAbsDiff(pre[i], full[i])).isLessThan(1e-4);
            // a second multi-token chunk on top of the cache (batch 1), then single tokens
            float[] last = p.prefill(cache, 0, slice(tokens, prompt, 15));
            assertThat(maxAbsDiff(last, full[14])).isLessThan(1e-4);
            for (int i = 15; i < tokens.length; i++) {
                float[][] step = p.decode(cache, new int[] {tokens[i]});
                assertThat(maxAbsDiff(step[0], full[i])).as("position " + i).isLessThan(1e-4);
            }
            assertThat(cache.length(0)).isEqualTo(tokens.length);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void batchedRaggedDecodeMatchesEachRowAlone(ModelConfig c) {
        Weights w = OrtTestModels.weights(c, 13);
        int[] promptLens = {3, 11, 1, 7};
        int steps = 6;
        try (OrtPolicy p = OrtPolicy.create(c, w)) {
            KvCache batch = p.newCache(4, 32);
            int[][] seqs = new int[promptLens.length][];
            for (int r = 0; r < promptLens.length; r++) {
                seqs[r] = OrtTestModels.tokens(c, promptLens[r] + steps, 100 + r);
                p.prefill(batch, r, slice(seqs[r], 0, promptLens[r]));
            }
            float[][][] batched = new float[steps][][];
            for (int s = 0; s < steps; s++) {
                int[] next = new int[seqs.length];
                for (int r = 0; r < seqs.length; r++) next[r] = seqs[r][promptLens[r] + s];
                batched[s] = p.decode(batch, next);
            }
            for (int r = 0; r < seqs.length; r++) {
                KvCache alone = p.newCache(1, 32);
                p.prefill(alone, 0, slice(seqs[r], 0, promptLens[r]));
                for (int s = 0; s < steps; s++) {
                    float[] single = p.decode(alone, new int[] {seqs[r][promptLens[r] + s]})[0];
                    assertThat(maxAbsDiff(batched[s][r], single)).as("row %d step %d", r, s).isLessThan(1e-5);
                }
            }
            assertThat(batch.lengths()).containsExactly(3 + steps, 11 + steps, 1 + steps, 7 + steps);
        }
    }

    @ParameterizedTest
    @MethodSource("configsAndLayouts")
    void batchedPrefillOfNewRowsMatchesSinglePrefills(ModelConfig c, GraphOptions layout) {
        Weights w = OrtTestModels.weights(c, 16);
        int[] lens = {5, 13, 1, 9};
        try (OrtPolicy p = OrtPolicy.create(c, w, PolicyOptions.DEFAULT.withGraph(layout))) {
            KvCache batch = p.newCache(5, 24);
            p.prefill(batch, 0, OrtTestModels.tokens(c, 4, 50)); // an existing row is left alone
            int[][] prompts = new int[lens.length][];
            for (int i = 0; i < lens.length; i++) prompts[i] = OrtTestModels.tokens(c, lens[i], 60 + i);
            float[][] last = p.prefillNew(batch, prompts);
            assertThat(batch.lengths()).containsExactly(4, 5, 13, 1, 9);
            int[] next = {1, 2, 3, 4, 5};
            float[][] step = p.decode(batch, next);
            for (int i = 0; i < lens.length; i++) {
                float[][] full = p.logits(concat(prompts[i], next[i + 1]));
                assertThat(maxAbsDiff(last[i], full[lens[i] - 1])).as("prompt %d", i).isLessThan(1e-4);
                assertThat(maxAbsDiff(step[i + 1], full[lens[i]])).as("decode after prompt %d", i).isLessThan(1e-4);
            }
            assertThatThrownBy(() -> p.prefillNew(batch, new int[][] {{1}})).hasMessageContaining("do not fit");
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void copyRowSharesPrefill(ModelConfig c) {
        Weights w = OrtTestModels.weights(c, 14);
        int[] prompt = OrtTestModels.tokens(c, 10, 7);
        int[][] continuations = {OrtTestModels.tokens(c, 5, 8), OrtTestModels.tokens(c, 5, 9), OrtTestModels.tokens(c, 5, 10)};
        try (OrtPolicy p = OrtPolicy.create(c, w)) {
            KvCache shared = p.newCache(3, 20);
            p.prefill(shared, 0, prompt);
            shared.copyRow(0, 1);
            shared.copyRow(0, 2);
            KvCache separate = p.newCache(3, 20);
            for (int r = 0; r < 3; r++) p.prefill(separate, r, prompt);
            assertThat(shared.active()).isEqualTo(3);
            for (int s = 0; s < 5; s++) {
                int[] next = {continuations[0][s], continuations[1][s], continuations[2][s]};
                float[][] a = p.decode(shared, next);
                float[][] b = p.decode(separate, next);
                for (int r = 0; r < 3; r++) assertThat(maxAbsDiff(a[r], b[r])).isLessThan(1e-5);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void releaseMovesLastRowIntact(ModelConfig c) {
        Weights w = OrtTestModels.weights(c, 15);
        int[][] seqs = {OrtTestModels.tokens(c, 12, 20), OrtTestModels.tokens(c, 12, 21), OrtTestModels.tokens(c, 12, 22)};
        int[] prompt = {4, 6, 8};
        try (OrtPolicy p = OrtPolicy.create(c, w)) {
            KvCache cache = p.newCache(3, 16);
            for (int r = 0; r < 3; r++) p.prefill(cache, r, slice(seqs[r], 0, prompt[r]));
            p.decode(cache, new int[] {seqs[0][prompt[0]], seqs[1][prompt[1]], seqs[2][prompt[2]]});
            // sequence 0 finishes: sequence 2 moves into slot 0
            assertThat(cache.release(0)).isEqualTo(2);
            assertThat(cache.active()).isEqualTo(2);
            assertThat(cache.lengths()).containsExactly(prompt[2] + 1, prompt[1] + 1);
            float[][] step = p.decode(cache, new int[] {seqs[2][prompt[2] + 1], seqs[1][prompt[1] + 1]});
            float[][] full2 = p.logits(slice(seqs[2], 0, prompt[2] + 2));
            float[][] full1 = p.logits(slice(seqs[1], 0, prompt[1] + 2));
            assertThat(maxAbsDiff(step[0], full2[prompt[2] + 1])).isLessThan(1e-4);
            assertThat(maxAbsDiff(step[1], full1[prompt[1] + 1])).isLessThan(1e-4);
            // moveRow directly: row 1 into row 0, the active count shrinks because row 1 was last
            cache.moveRow(1, 0);
            assertThat(cache.active()).isEqualTo(1);
            float[] again = p.decode(cache, new int[] {seqs[1][prompt[1] + 2]})[0];
            float[][] full1b = p.logits(slice(seqs[1], 0, prompt[1] + 3));
            assertThat(maxAbsDiff(again, full1b[prompt[1] + 2])).isLessThan(1e-4);
            assertThat(cache.release(0)).isEqualTo(-1);
            assertThat(cache.active()).isZero();
        }
    }

    @Test
    void newWeightsMakeANewSessionAndTheOldOneKeepsWorking() {
        ModelConfig c = ModelInit.tinyConfig();
        int[] tokens = OrtTestModels.tokens(c, 12, 3);
        OrtPolicy v1 = OrtPolicy.create(c, OrtTestModels.weights(c, 1));
        float[][] before = v1.logits(tokens);
        try (OrtPolicy v2 = OrtPolicy.create(c, OrtTestModels.weights(c, 2))) {
            float[][] other = v2.logits(tokens);
            assertThat(maxAbsDiff(other, toDouble(before))).isGreaterThan(0.1);
            assertThat(maxAbsDiff(v1.logits(tokens), toDouble(before))).isZero();
            assertThat(v2.creationNanos()).isLessThan(1_000_000_000L);
        }
        assertThat(maxAbsDiff(v1.logits(tokens), toDouble(before))).isZero();
        v1.close();
    }

    @Test
    void capacityAndArgumentChecksAreClear() {
        ModelConfig c = OrtTestModels.GQA_TIED;
        try (OrtPolicy p = OrtPolicy.create(c, OrtTestModels.weights(c, 4))) {
            KvCache cache = p.newCache(2, 8);
            assertThatThrownBy(() -> p.prefill(cache, 0, new int[9])).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("KV capacity 8");
            assertThat(cache.active()).isZero(); // a refused prefill leaves the cache as it was
            assertThatThrownBy(() -> p.prefill(cache, 1, new int[2])).hasMessageContaining("next free slot 0");
            p.prefill(cache, 0, new int[7]);
            p.decode(cache, new int[] {1});
            assertThatThrownBy(() -> p.decode(cache, new int[] {1})).hasMessageContaining("row 0 is full");
            assertThatThrownBy(() -> p.decode(cache, new int[] {1, 2})).hasMessageContaining("2 tokens for 1 active rows");
            assertThatThrownBy(() -> p.prefill(cache, 1, new int[] {c.vocabSize()})).hasMessageContaining("outside the vocabulary");
            assertThatThrownBy(() -> cache.copyRow(0, 2)).hasMessageContaining("next free slot 1");
            cache.copyRow(0, 1);
            assertThatThrownBy(() -> p.prefill(cache, 2, new int[] {1})).hasMessageContaining("cache full: 2 rows");
            assertThatThrownBy(() -> cache.moveRow(2, 0)).hasMessageContaining("not active");
            assertThatThrownBy(() -> p.newCache(1, c.maxPositionEmbeddings() + 1)).hasMessageContaining("max_position_embeddings");
            assertThatThrownBy(() -> new PolicyOptions(0, 1, GraphOptions.DEFAULT)).hasMessageContaining("intraOpThreads");
        }
    }

    // ---------------------------------------------------------------- helpers

    static int[] concat(int[] a, int b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }

    static int[] slice(int[] a, int from, int to) {
        return java.util.Arrays.copyOfRange(a, from, to);
    }

    static double maxAbsDiff(float[][] a, double[][] b) {
        assertThat(a.length).isEqualTo(b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i].length).isEqualTo(b[i].length);
            for (int j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
        }
        return m;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a.length).isEqualTo(b.length);
        double m = 0;
        for (int j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[j] - b[j]));
        return m;
    }

    static double maxAbs(double[][] a) {
        double m = 0;
        for (double[] r : a) for (double v : r) m = Math.max(m, Math.abs(v));
        return m;
    }

    static double[][] toDouble(float[][] a) {
        double[][] d = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            d[i] = new double[a[i].length];
            for (int j = 0; j < a[i].length; j++) d[i][j] = a[i][j];
        }
        return d;
    }
}
