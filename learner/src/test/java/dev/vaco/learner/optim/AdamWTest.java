package dev.vaco.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** AdamW against a plain-loop AdamW in double (torch.optim.AdamW's order of operations); tolerance 1e-6 absolute. */
class AdamWTest {
    static final double B1 = 0.9, B2 = 0.95, EPS = 1e-8, WD = 0.1;

    /** The loop, one element at a time. */
    static final class PlainAdamW {
        final double[] p, m, v;
        long t;

        PlainAdamW(float[] init) {
            p = new double[init.length];
            for (int i = 0; i < init.length; i++) p[i] = init[i];
            m = new double[init.length];
            v = new double[init.length];
        }

        void step(float[] g, double lr) {
            t++;
            double bc1 = 1 - Math.pow(B1, t), bc2 = 1 - Math.pow(B2, t);
            for (int i = 0; i < p.length; i++) {
                p[i] *= 1 - lr * WD;
                m[i] = B1 * m[i] + (1 - B1) * g[i];
                v[i] = B2 * v[i] + (1 - B2) * g[i] * g[i];
                p[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + EPS);
            }
        }
    }

    static float[] random(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * r.nextGaussian());
        return x;
    }

    @Test
    void matchesPlainLoopOverSeveralSteps() {
        Random r = new Random(42);
        try (NDManager m = NDManager.newBaseManager(); AdamW adamW = new AdamW(m, B1, B2, EPS, WD)) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            Map<String, PlainAdamW> loops = new LinkedHashMap<>();
            Map<String, Shape> shapes = Map.of("w", new Shape(3, 4), "b", new Shape(5));
            for (String name : new String[] {"w", "b"}) {
                float[] init = random(r, (int) shapes.get(name).size(), 1);
                params.put(name, Params.leaf(m, init, shapes.get(name)));
                loops.put(name, new PlainAdamW(init));
            }
            double[] lrs = {1e-3, 2e-2, 5e-3, 1e-2, 3e-3, 1e-4};
            for (double lr : lrs) {
                Map<String, float[]> grads = new LinkedHashMap<>();
                params.forEach((k, p) -> grads.put(k, random(r, (int) p.size(), 0.5)));
                Gradients.zero(params);
                Params.backwardWithGradients(params, grads);
                adamW.step(params, lr);
                loops.forEach((k, loop) -> loop.step(grads.get(k), lr));
            }
            for (String name : params.keySet()) {
                float[] actual = params.get(name).toFloatArray();
                for (int i = 0; i < actual.length; i++) {
                    assertThat((double) actual[i]).as("%s[%d]", name, i).isCloseTo(loops.get(name).p[i], within(1e-6));
                }
                assertThat(adamW.steps(name)).isEqualTo(lrs.length);
            }
        }
    }

    @Test
    void stateExportImportContinuesIdentically() {
        Random r = new Random(3);
        float[] init = random(r, 6, 1);
        float[][] grads = new float[5][];
        for (int s = 0; s < 5; s++) grads[s] = random(r, 6, 1);
        try (NDManager m = NDManager.newBaseManager();
             AdamW first = new AdamW(m, B1, B2, EPS, WD); AdamW second = new AdamW(m, B1, B2, EPS, WD)) {
            Map<String, NDArray> a = Map.of("p", Params.leaf(m, init, new Shape(2, 3)));
            Map<String, NDArray> b = Map.of("p", Params.leaf(m, init, new Shape(2, 3)));
            for (int s = 0; s < 3; s++) step(first, a, grads[s]);
            for (int s = 0; s < 3; s++) step(second, b, grads[s]);
            AdamW.State saved = second.exportState();
            try (AdamW restored = new AdamW(m, B1, B2, EPS, WD)) {
                restored.importState(saved, b);
                for (int s = 3; s < 5; s++) {
                    step(first, a, grads[s]);
                    step(restored, b, grads[s]);
                }
                assertThat(b.get("p").toFloatArray()).containsExactly(a.get("p").toFloatArray());
                assertThat(restored.steps("p")).isEqualTo(5);
            }
        }
    }

    static void step(AdamW adamW, Map<String, NDArray> params, float[] grad) {
        Gradients.zero(params);
        Params.backwardWithGradients(params, Map.of("p", grad));
        adamW.step(params, 1e-2);
    }

    /**
     * Measurement behind the choice of in-place ops over DJL's fused {@code adamUpdate} (prints, asserts nothing):
     * 24 tensors of 512 x 512 (6.3M parameters), 5 steps each after 2 warm-up steps. Run with
     * {@code -Dvaco.bench=true}. Measured on the 2-core box (shared): 125 vs 225 ms, 255 vs 387 ms.
     */
    @Test
    @EnabledIfSystemProperty(named = "vaco.bench", matches = "true")
    void timing() {
        Random r = new Random(1);
        try (NDManager m = NDManager.newBaseManager(); AdamW adamW = new AdamW(m, B1, B2, EPS, WD)) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (int i = 0; i < 24; i++) {
                params.put("p" + i, Params.leaf(m, random(r, 512 * 512, 0.02), new Shape(512, 512)));
                grads.put("p" + i, random(r, 512 * 512, 0.01));
            }
            Params.backwardWithGradients(params, grads);
            for (int i = 0; i < 2; i++) adamW.step(params, 1e-4);
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) adamW.step(params, 1e-4);
            double ours = (System.nanoTime() - t0) / 5e6;

            Map<String, NDArray[]> moments = new LinkedHashMap<>();
            params.forEach((k, p) -> moments.put(k, new NDArray[] {p.zerosLike(), p.zerosLike()}));
            for (int i = 0; i < 7; i++) {
                if (i == 2) t0 = System.nanoTime();
                for (var e : params.entrySet()) {
                    NDArray p = e.getValue();
                    NDArray[] mv = moments.get(e.getKey());
                    try (NDArray g = p.getGradient()) {
                        p.getNDArrayInternal().adamUpdate(new NDList(p, g, mv[0], mv[1]), new NDList(p), 1e-4f, 1e-4f,
                                (float) WD, 1f, -1f, (float) B1, (float) B2, (float) EPS, true, true);
                    }
                }
            }
            double fused = (System.nanoTime() - t0) / 5e6;
            System.out.printf("AdamW step, 6.3M params: in-place ops %.1f ms, DJL fused adamUpdate %.1f ms%n",
                    ours, fused);
        }
    }
}
