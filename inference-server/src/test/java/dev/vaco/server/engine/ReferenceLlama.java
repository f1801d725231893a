package dev.vaco.server.engine;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.Tensor;
import dev.vaco.model.Weights;

/**
 * The oracle: Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM forward written as plain loops in double, straight
 * from the HF modeling code (no cache, one sequence). Slow on purpose; nothing here is shared with the ONNX graph.
 */
final class ReferenceLlama {
    private final ModelConfig c;
    private final Weights w;

    ReferenceLlama(ModelConfig c, Weights w) {
        this.c = c;
        this.w = w;
    }

    /** @return logits [T][V] */
    double[][] forward(int[] tokens) {
        int t = tokens.length, h = c.hiddenSize();
        double[][] x = new double[t][h];
        for (int i = 0; i < t; i++) x[i] = row(w.get("model.embed_tokens.weight"), tokens[i], h);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] n = rmsNorm(x, p + "input_layernorm.weight");
            double[][] q = linear(n, p + "self_attn.q_proj.weight", c.qkvBias() ? p + "self_attn.q_proj.bias" : null);
            double[][] k = linear(n, p + "self_attn.k_proj.weight", c.qkvBias() ? p + "self_attn.k_proj.bias" : null);
            double[][] v = linear(n, p + "self_attn.v_proj.weight", c.qkvBias() ? p + "self_attn.v_proj.bias" : null);
            rope(q, c.numAttentionHeads());
            rope(k, c.numKeyValueHeads());
            double[][] a = attention(q, k, v);
            double[][] o = linear(a, p + "self_attn.o_proj.weight", c.oBias() ? p + "self_attn.o_proj.bias" : null);
            add(x, o);
            double[][] n2 = rmsNorm(x, p + "post_attention_layernorm.weight");
            double[][] gate = linear(n2, p + "mlp.gate_proj.weight", null);
            double[][] up = linear(n2, p + "mlp.up_proj.weight", null);
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < gate[i].length; j++) {
                    double g = gate[i][j];
                    gate[i][j] = g / (1 + Math.exp(-g)) * up[i][j]; // silu(gate) * up
                }
            }
            add(x, linear(gate, p + "mlp.down_proj.weight", null));
        }
        double[][] n = rmsNorm(x, "model.norm.weight");
        return linear(n, c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight", null);
    }

    /** x * rsqrt(mean(x^2) + eps) * w */
    private double[][] rmsNorm(double[][] x, String weight) {
        Tensor g = w.get(weight);
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) ms += v * v;
            ms /= x[i].length;
            double r = 1 / Math.sqrt(ms + c.rmsNormEps());
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) y[i][j] = x[i][j] * r * g.get(j);
        }
        return y;
    }

    /** x W^T + b with W in [out, in] layout. */
    private double[][] linear(double[][] x, String weight, String bias) {
        Tensor wt = w.get(weight);
        int out = (int) wt.shape()[0], in = (int) wt.shape()[1];
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : w.get(bias).get(o);
                for (int k = 0; k < in; k++) s += x[i][k] * wt.get(o * in + k);
                y[i][o] = s;
            }
        }
        return y;
    }

    /** q*cos + rotate_half(q)*sin per head, rotate_half(x) = cat(-x2, x1), position = token index. */
    private void rope(double[][] x, int heads) {
        int hd = c.headDim(), half = hd / 2;
        for (int pos = 0; pos < x.length; pos++) {
            for (int h = 0; h < heads; h++) {
                int base = h * hd;
                double[] out = new double[hd];
                for (int i = 0; i < hd; i++) {
                    double invFreq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * (i % half)) / hd);
                    double ang = pos * invFreq;
                    double rot = i < half ? -x[pos][base + i + half] : x[pos][base + i - half];
                    out[i] = x[pos][base + i] * Math.cos(ang) + rot * Math.sin(ang);
                }
                System.arraycopy(out, 0, x[pos], base, hd);
            }
        }
    }

    /** Causal softmax attention; query head h reads kv head h / (NH/KVH) (HF repeat_kv order). */
    private double[][] attention(double[][] q, double[][] k, double[][] v) {
        int t = q.length, hd = c.headDim(), groups = c.numAttentionHeads() / c.numKeyValueHeads();
        double scale = 1 / Math.sqrt(hd);
        double[][] out = new double[t][c.qDim()];
        for (int h = 0; h < c.numAttentionHeads(); h++) {
            int kvh = h / groups;
            for (int i = 0; i < t; i++) {
                double[] s = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += q[i][h * hd + e] * k[j][kvh * hd + e];
                    s[j] = d * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j <= i; j++) {
                    double pj = s[j] / sum;
                    for (int e = 0; e < hd; e++) out[i][h * hd + e] += pj * v[j][kvh * hd + e];
                }
            }
        }
        return out;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) for (int j = 0; j < x[i].length; j++) x[i][j] += y[i][j];
    }

    private static double[] row(Tensor t, int r, int width) {
        double[] out = new double[width];
        for (int j = 0; j < width; j++) out[j] = t.get(r * width + j);
        return out;
    }
}
