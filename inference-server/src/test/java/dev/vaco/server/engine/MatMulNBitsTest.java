package dev.vaco.server.engine;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.vaco.model.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One quantized linear layer on ONNX Runtime (MatMulNBits over {@link BlockQuantizer}'s tensors) against the naive
 * oracle: dequantize w' = (q - zp) * scale element by element, then x w'^T in double. With accuracy level 4 the kernel
 * also quantizes x to int8 per block of K (symmetric, scale = max|x| / 127), and so does the oracle then.
 */
class MatMulNBitsTest {
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int bits : new int[] {4, 8}) {
            for (int block : new int[] {16, 32, 128}) {
                for (int level : new int[] {0, 4}) {
                    // K = 200: not a multiple of any block (the last block is padded); M = 1 (decode) and 37 (prefill)
                    for (int m : new int[] {1, 37}) out.add(Arguments.of(bits, block, level, m, 200, 72));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "int{0} block {1} level {2} M {3}")
    @MethodSource("cases")
    void layerMatchesDequantizeThenMatmul(int bits, int block, int level, int m, int k, int n) throws Exception {
        Quantization s = new Quantization("test", bits, block, level, false);
        SplittableRandom r = new SplittableRandom(bits * 1000L + block * 10L + level + m);
        FloatBuffer w = gaussian(r, (long) n * k, 1 / Math.sqrt(k));
        FloatBuffer x = gaussian(r, (long) m * k, 1.0);
        BlockQuantizer.Quantized q = BlockQuantizer.quantize(w, n, k, s);

        // the stored values dequantize to within half a step of the weight
        double worst = 0;
        for (int row = 0; row < n; row++) {
            for (int c = 0; c < k; c++) {
                double err = Math.abs(dequantized(q, row, c) - w.get(row * k + c));
                worst = Math.max(worst, err / q.scale(row, c / block));
            }
        }
        assertThat(worst).as("max |w - w'| / scale").isLessThanOrEqualTo(0.5 + 1e-4);

        double[][] expected = oracle(q, x, m, level == 4);
        float[] got = run(q, x, m);
        double maxAbs = 0, maxErr = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                maxAbs = Math.max(maxAbs, Math.abs(expected[i][j]));
                maxErr = Math.max(maxErr, Math.abs(got[i * n + j] - expected[i][j]));
            }
        }
        assertThat(maxAbs).as("outputs are O(1): the tolerance means something").isGreaterThan(1.0);
        // fp32 accumulation of 200 products, and with int8 activations a rounding tie broken the other way now and then
        assertThat(maxErr).as("max |ort - oracle|").isLessThan(level == 4 ? 2e-3 : 1e-4);
    }

    /** w'[row, c] = (q - zp) * scale. */
    static double dequantized(BlockQuantizer.Quantized q, int row, int c) {
        int b = c / q.scheme().blockSize();
        return (q.q(row, c) - q.zeroPoint(row, b)) * (double) q.scale(row, b);
    }

    /** y = x' w'^T in double; x' = x, or x quantized per block of K to int8 (symmetric) and back. */
    static double[][] oracle(BlockQuantizer.Quantized q, FloatBuffer x, int m, boolean int8Activations) {
        int n = q.n(), k = q.k(), bs = q.scheme().blockSize();
        double[][] y = new double[m][n];
        for (int i = 0; i < m; i++) {
            double[] xi = new double[k];
            for (int c = 0; c < k; c++) xi[c] = x.get(i * k + c);
            if (int8Activations) {
                for (int from = 0; from < k; from += bs) {
                    double amax = 0;
                    for (int c = from; c < Math.min(k, from + bs); c++) amax = Math.max(amax, Math.abs(xi[c]));
                    float scale = (float) (amax / 127);
                    for (int c = from; c < Math.min(k, from + bs); c++) {
                        xi[c] = scale == 0 ? 0 : Math.rint((float) xi[c] / scale) * scale;
                    }
                }
            }
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int c = 0; c < k; c++) acc += xi[c] * dequantized(q, j, c);
                y[i][j] = acc;
            }
        }
        return y;
    }

    /** x [m, k] through a one-node graph: MatMulNBits over q's three initializers. */
    static float[] run(BlockQuantizer.Quantized q, FloatBuffer x, int m) throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("one_linear");
        g.input("x", DataType.FLOAT, "M", (long) q.k());
        g.externalNBits("w", q.n(), q.k(), q.scheme());
        String y = g.linear("x", "w", null);
        g.output(y, DataType.FLOAT, "M", (long) q.n());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor data = OnnxTensor.createTensor(env, q.data(), q.dataShape(), OnnxJavaType.UINT8);
             OnnxTensor scales = OnnxTensor.createTensor(env, q.scales(), q.scalesShape());
             OnnxTensor zps = OnnxTensor.createTensor(env, q.zeroPoints(), q.zeroPointsShape(), OnnxJavaType.UINT8);
             OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            Map<String, OnnxTensorLike> init = Map.of(OnnxGraphBuilder.nBitsData("w"), data,
                    OnnxGraphBuilder.nBitsScales("w"), scales, OnnxGraphBuilder.nBitsZeroPoints("w"), zps);
            so.addExternalInitializers(init);
            try (OrtSession session = env.createSession(g.build().toByteArray(), so);
                 OnnxTensor in = OnnxTensor.createTensor(env, x.duplicate().position(0), new long[] {m, q.k()});
                 OrtSession.Result out = session.run(Map.of("x", in))) {
                FloatBuffer fb = ((OnnxTensor) out.get(0)).getFloatBuffer();
                float[] result = new float[m * q.n()];
                fb.get(result);
                return result;
            }
        }
    }

    static FloatBuffer gaussian(SplittableRandom r, long n, double std) {
        FloatBuffer b = Tensor.allocate(n);
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble(), v = r.nextDouble();
            b.put(i, (float) (std * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v)));
        }
        return b;
    }
}
