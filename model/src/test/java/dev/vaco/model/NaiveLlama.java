package dev.vaco.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The test oracle: Hugging Face's Llama / Qwen2 forward written as plain loops in double precision, one row at a
 * time (so batching and padding cannot leak between rows by construction). Only the rotary angles follow HF's fp32
 * recipe exactly (inv_freq and pos * inv_freq in float), because that rounding is part of the definition. Both
 * engines are tested against it: the ONNX graph (inference-server) and the DJL module (trainer), through this
 * module's test-jar.
 */
public final class NaiveLlama {
    private final ModelConfig c;
    private final Map<String, double[]> w;

    public NaiveLlama(ModelConfig config, Weights weights) {
        this(config, toDouble(weights));
    }

    public NaiveLlama(ModelConfig config, Map<String, double[]> weights) {
        this.c = config;
        this.w = weights;
    }

    public static Map<String, double[]> toDouble(Weights weights) {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Tensor t : weights.tensors()) {
            float[] f = t.toArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) d[i] = f[i];
            m.put(t.name(), d);
        }
        return m;
    }

    /** logits [T][V] of one unpadded row. */
    public double[][] logits(int[] tokens) {
        int t = tokens.length, h = c.hiddenSize(), v = c.vocabSize();
        double[] embed = w.get("model.embed_tokens.weight");
        double[][] x = new double[t][h];
        for (int p = 0; p < t; p++) System.arraycopy(embed, tokens[p] * h, x[p], 0, h);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String pre = "model.layers." + l + ".";
            double[][] attn = attention(rmsNorm(x, w.get(pre + "input_layernorm.weight")), pre);
            add(x, attn);
            double[][] mlp = mlp(rmsNorm(x, w.get(pre + "post_attention_layernorm.weight")), pre);
            add(x, mlp);
        }
        double[][] hidden = rmsNorm(x, w.get("model.norm.weight"));
        double[] head = c.tieWordEmbeddings() ? embed : w.get("lm_head.weight");
        return linear(hidden, head, null, v, h);
    }

    /** sum over (b, t) with select[b][t] of log p(targets[b][t] | tokens[b][..t]); rows are unpadded. */
    double sumLogProbs(int[][] tokens, int[][] targets, boolean[][] select) {
        double sum = 0;
        for (int b = 0; b < tokens.length; b++) {
            double[][] lg = logits(tokens[b]);
            for (int p = 0; p < tokens[b].length; p++) {
                if (select[b][p]) sum += logSoftmax(lg[p])[targets[b][p]];
            }
        }
        return sum;
    }

    public static double[] logSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double d : z) max = Math.max(max, d);
        double s = 0;
        for (double d : z) s += Math.exp(d - max);
        double lse = max + Math.log(s);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) out[i] = z[i] - lse;
        return out;
    }

    private double[][] rmsNorm(double[][] x, double[] weight) {
        double[][] out = new double[x.length][];
        for (int p = 0; p < x.length; p++) {
            double ms = 0;
            for (double d : x[p]) ms += d * d;
            ms /= x[p].length;
            double inv = 1 / Math.sqrt(ms + c.rmsNormEps());
            out[p] = new double[x[p].length];
            for (int i = 0; i < x[p].length; i++) out[p][i] = weight[i] * (x[p][i] * inv);
        }
        return out;
    }

    private double[][] attention(double[][] x, String pre) {
        int t = x.length, h = c.hiddenSize(), nh = c.numAttentionHeads(), kvh = c.numKeyValueHeads(), hd = c.headDim();
        String a = pre + "self_attn.";
        double[][] q = linear(x, w.get(a + "q_proj.weight"), w.get(a + "q_proj.bias"), nh * hd, h);
        double[][] k = linear(x, w.get(a + "k_proj.weight"), w.get(a + "k_proj.bias"), kvh * hd, h);
        double[][] v = linear(x, w.get(a + "v_proj.weight"), w.get(a + "v_proj.bias"), kvh * hd, h);
        q = rope(q, nh);
        k = rope(k, kvh);
        double scale = 1 / Math.sqrt(hd);
        double[][] ctx = new double[t][nh * hd];
        for (int n = 0; n < nh; n++) {
            int g = n / (nh / kvh); // repeat_kv: query head n reads kv head n / R
            for (int i = 0; i < t; i++) {
                double[] s = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += q[i][n * hd + d] * k[j][g * hd + d];
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double z = 0;
                for (int j = 0; j <= i; j++) {
                    s[j] = Math.exp(s[j] - max);
                    z += s[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < hd; d++) ctx[i][n * hd + d] += s[j] / z * v[j][g * hd + d];
                }
            }
        }
        return linear(ctx, w.get(a + "o_proj.weight"), w.get(a + "o_proj.bias"), h, nh * hd);
    }

    /** HF apply_rotary_pos_emb on [T][heads*hd]: x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x2, x1). */
    private double[][] rope(double[][] x, int heads) {
        int hd = c.headDim(), half = hd / 2;
        float[] inv = new float[half];
        ModelConfig.RopeScaling r = c.ropeScaling();
        for (int i = 0; i < half; i++) {
            inv[i] = 1f / (float) Math.pow((float) c.ropeTheta(), (float) (2 * i) / (float) hd);
            // rope scaling, written out from Hugging Face's formulas in double precision (independent of the engines')
            double f = inv[i], wavelen = 2 * Math.PI / f;
            if (r.type().equals("linear")) f /= r.factor();
            if (r.type().equals("llama3")) {
                double lowWavelen = r.originalMaxPositionEmbeddings() / r.lowFreqFactor();
                double highWavelen = r.originalMaxPositionEmbeddings() / r.highFreqFactor();
                if (wavelen > lowWavelen) {
                    f /= r.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (r.originalMaxPositionEmbeddings() / wavelen - r.lowFreqFactor())
                            / (r.highFreqFactor() - r.lowFreqFactor());
                    f = (1 - smooth) * f / r.factor() + smooth * f;
                }
            }
            inv[i] = (float) f;
        }
        double[][] out = new double[x.length][x[0].length];
        for (int p = 0; p < x.length; p++) {
            for (int n = 0; n < heads; n++) {
                for (int d = 0; d < hd; d++) {
                    float angle = (float) p * inv[d % half];
                    double rot = d < half ? -x[p][n * hd + d + half] : x[p][n * hd + d - half];
                    out[p][n * hd + d] = x[p][n * hd + d] * Math.cos(angle) + rot * Math.sin(angle);
                }
            }
        }
        return out;
    }

    private double[][] mlp(double[][] x, String pre) {
        int h = c.hiddenSize(), im = c.intermediateSize();
        double[][] gate = linear(x, w.get(pre + "mlp.gate_proj.weight"), null, im, h);
        double[][] up = linear(x, w.get(pre + "mlp.up_proj.weight"), null, im, h);
        for (int p = 0; p < x.length; p++) {
            for (int i = 0; i < im; i++) {
                double g = gate[p][i];
                gate[p][i] = g / (1 + Math.exp(-g)) * up[p][i];
            }
        }
        return linear(gate, w.get(pre + "mlp.down_proj.weight"), null, h, im);
    }

    /** y = x W^T + b with W row-major [out][in]. */
    private static double[][] linear(double[][] x, double[] weight, double[] bias, int out, int in) {
        double[][] y = new double[x.length][out];
        for (int p = 0; p < x.length; p++) {
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) s += weight[o * in + i] * x[p][i];
                y[p][o] = s;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int p = 0; p < x.length; p++) for (int i = 0; i < x[p].length; i++) x[p][i] += y[p][i];
    }
}
