package dev.vaco.learner.objective;

/**
 * Plain-loop reference objectives in double, no DJL: per-token loss x_t and its analytic derivative dx_t/dl_t,
 * then the aggregation. The oracle the DJL objectives are checked against.
 */
final class Reference {
    private Reference() {}

    /** Loss and its gradient w.r.t. logp [N][T]. */
    record LossGrad(double loss, double[][] grad) {}

    /** Per-token value and derivative w.r.t. l at (i, j). */
    interface PerToken {
        double[] at(int i, int j); // {x, dx/dl}
    }

    static LossGrad aggregate(PerToken f, double[][] mask, LossAggregation aggregation) {
        int n = mask.length, t = mask[0].length;
        double[][] grad = new double[n][t];
        double loss = 0;
        if (aggregation == LossAggregation.TOKEN_MEAN) {
            double tokens = 0;
            for (double[] row : mask) for (double m : row) tokens += m;
            tokens = Math.max(1, tokens);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < t; j++) {
                    if (mask[i][j] == 0) continue;
                    double[] x = f.at(i, j);
                    loss += x[0] / tokens;
                    grad[i][j] = x[1] / tokens;
                }
            }
        } else {
            int rows = 0;
            for (double[] row : mask) if (sum(row) > 0) rows++;
            for (int i = 0; i < n; i++) {
                double length = sum(mask[i]);
                if (length == 0) continue;
                for (int j = 0; j < t; j++) {
                    if (mask[i][j] == 0) continue;
                    double[] x = f.at(i, j);
                    loss += x[0] / length / rows;
                    grad[i][j] = x[1] / length / rows;
                }
            }
        }
        return new LossGrad(loss, grad);
    }

    static LossGrad plus(LossGrad a, LossGrad b, double coef) {
        double[][] g = new double[a.grad.length][];
        for (int i = 0; i < g.length; i++) {
            g[i] = a.grad[i].clone();
            for (int j = 0; j < g[i].length; j++) g[i][j] += coef * b.grad[i][j];
        }
        return new LossGrad(a.loss + coef * b.loss, g);
    }

    /** k3 KL to the reference: x = e^d - d - 1, d = lref - l; dx/dl = 1 - e^d. */
    static LossGrad k3(Inputs in, LossAggregation agg) {
        return aggregate((i, j) -> {
            double d = in.logpRef[i][j] - in.logp[i][j];
            return new double[] {Math.exp(d) - d - 1, 1 - Math.exp(d)};
        }, in.mask, agg);
    }

    /** Align: w = min(rho, exp(lT - lb)), A~ = w A (zero on padding). */
    static double[][] align(Inputs in, double rhoBar) {
        double[][] a = new double[in.n][in.t];
        for (int i = 0; i < in.n; i++) {
            for (int j = 0; j < in.t; j++) {
                double w = Math.min(rhoBar, Math.exp(in.logpStart[i][j] - in.logpBehaviour[i][j]));
                a[i][j] = w * in.advantages[i] * in.mask[i][j];
            }
        }
        return a;
    }

    /** VACO filter mask m_t (1 keep, 0 filtered) on real tokens. */
    static double[][] vacoKeep(Inputs in, double[][] aligned, double delta, Vaco.TvAnchor anchor,
                               Vaco.TestScope scope) {
        int n = in.n, t = in.t;
        double[][] q = new double[n][t], tv = new double[n][t];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                double base = anchor == Vaco.TvAnchor.BEHAVIOUR ? in.logpBehaviour[i][j] : in.logpStart[i][j];
                q[i][j] = Math.exp(in.logp[i][j] - base);
                tv[i][j] = 0.5 * Math.abs(q[i][j] - 1);
            }
        }
        double[] rowMean = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0, c = 0;
            for (int j = 0; j < t; j++) {
                s += tv[i][j] * in.mask[i][j];
                c += in.mask[i][j];
            }
            rowMean[i] = c == 0 ? 0 : s / c;
        }
        double[] groupMean = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0, c = 0;
            for (int k = 0; k < n; k++) {
                if (in.groupIds[k] != in.groupIds[i]) continue;
                for (int j = 0; j < t; j++) {
                    s += tv[k][j] * in.mask[k][j];
                    c += in.mask[k][j];
                }
            }
            groupMean[i] = c == 0 ? 0 : s / c;
        }
        double[][] keep = new double[n][t];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                double stat = switch (scope) {
                    case TOKEN -> tv[i][j];
                    case SEQUENCE_MEAN -> rowMean[i];
                    case GROUP_MEAN -> groupMean[i];
                };
                boolean pushesOut = aligned[i][j] * Math.signum(q[i][j] - 1) > 0;
                keep[i][j] = stat > delta && pushesOut ? 0 : 1;
            }
        }
        return keep;
    }

    static LossGrad vaco(Inputs in, double[][] aligned, Vaco o) {
        double[][] keep = vacoKeep(in, aligned, o.delta(), o.anchor(), o.scope());
        LossGrad pg = aggregate((i, j) -> {
            double r = Math.exp(in.logp[i][j] - in.logpStart[i][j]);
            double x = -keep[i][j] * r * aligned[i][j];
            return new double[] {x, x};
        }, in.mask, o.aggregation());
        return o.klCoef() > 0 ? plus(pg, k3(in, o.aggregation()), o.klCoef()) : pg;
    }

    /** PPO-clip per token on ratio exp(l - base): x = max(-qA, -clip(q)A). */
    static double[] ppoToken(double l, double base, double a, double eps, double epsHigh) {
        double q = Math.exp(l - base);
        double c = Math.min(Math.max(q, 1 - eps), 1 + epsHigh);
        double pg1 = -q * a, pg2 = -c * a;
        boolean inRange = q >= 1 - eps && q <= 1 + epsHigh;
        double x = Math.max(pg1, pg2);
        double dx = inRange || pg1 > pg2 ? -q * a : 0;
        return new double[] {x, dx};
    }

    static LossGrad ppoClip(Inputs in, PpoClip o) {
        return aggregate((i, j) -> ppoToken(in.logp[i][j], in.logpBehaviour[i][j], in.advantages[i], o.eps(),
                o.epsHigh()), in.mask, o.aggregation());
    }

    static LossGrad grpo(Inputs in, Grpo o) {
        LossGrad pg = aggregate((i, j) -> ppoToken(in.logp[i][j], in.logpStart[i][j], in.advantages[i], o.eps(),
                o.epsHigh()), in.mask, o.aggregation());
        return o.klCoef() > 0 ? plus(pg, k3(in, o.aggregation()), o.klCoef()) : pg;
    }

    static LossGrad decoupledPpo(Inputs in, DecoupledPpo o) {
        return aggregate((i, j) -> {
            double w = Math.min(o.isCap(), Math.exp(in.logpStart[i][j] - in.logpBehaviour[i][j]));
            double[] x = ppoToken(in.logp[i][j], in.logpStart[i][j], in.advantages[i], o.eps(), o.epsHigh());
            return new double[] {w * x[0], w * x[1]};
        }, in.mask, o.aggregation());
    }

    static LossGrad tisReinforce(Inputs in, TruncatedIsReinforce o) {
        return aggregate((i, j) -> {
            double w = Math.min(o.isCap(), Math.exp(in.logp[i][j] - in.logpBehaviour[i][j]));
            return new double[] {-w * in.logp[i][j] * in.advantages[i], -w * in.advantages[i]};
        }, in.mask, o.aggregation());
    }

    static LossGrad spo(Inputs in, Spo o) {
        return aggregate((i, j) -> {
            double q = Math.exp(in.logp[i][j] - in.logpBehaviour[i][j]), a = in.advantages[i];
            double x = -(q * a - Math.abs(a) / (2 * o.eps()) * (q - 1) * (q - 1));
            double dx = -(q * a - Math.abs(a) / o.eps() * (q - 1) * q);
            return new double[] {x, dx};
        }, in.mask, o.aggregation());
    }

    static double sum(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s;
    }
}
