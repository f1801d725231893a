package dev.vaco.trainer.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A line chart with several named series and optional error bars, as SVG text: enough for the experiment's plots
 * without a plotting library (SVG opens in any browser and renders on GitHub).
 */
public final class SvgChart {
    /** One point: x, y and the half-height of its error bar (0 = none). */
    record Point(double x, double y, double err) {}

    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f"};

    private final String title, xLabel, yLabel;
    private final boolean logY;
    private final Map<String, List<Point>> series = new LinkedHashMap<>();

    public SvgChart(String title, String xLabel, String yLabel, boolean logY) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logY = logY;
    }

    public SvgChart add(String name, double x, double y, double err) {
        if (logY && !(y > 0)) return this; // nothing to draw on a log axis
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(new Point(x, y, err));
        return this;
    }

    /** The chart at {@code width x height} pixels, legend on the right (none for a single series). */
    public String render(int width, int height) {
        int left = 80, right = series.size() > 1 ? 190 : 20, top = 30, bottom = 40;
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (List<Point> ps : series.values()) {
            for (Point p : ps) {
                minX = Math.min(minX, p.x());
                maxX = Math.max(maxX, p.x());
                minY = Math.min(minY, y(p.y() - (logY ? 0 : p.err())));
                maxY = Math.max(maxY, y(p.y() + p.err()));
            }
        }
        if (series.isEmpty()) { minX = 0; maxX = 1; minY = 0; maxY = 1; }
        if (maxX == minX) maxX = minX + 1;
        if (maxY - minY < 1e-12) { maxY += 0.5; minY -= 0.5; }
        double pad = 0.05 * (maxY - minY);
        minY -= pad;
        maxY += pad;
        double x0 = left, x1 = width - right, y0 = height - bottom, y1 = top;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n", width, height));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"13\">%s</text>%n", left, esc(title)));
        b.append(String.format(Locale.ROOT, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>%n", x0, y0, x1, y0));
        b.append(String.format(Locale.ROOT, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>%n", x0, y0, x0, y1));
        for (int i = 0; i <= 4; i++) { // y ticks
            double v = minY + (maxY - minY) * i / 4, py = y0 - (y0 - y1) * i / 4;
            b.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>%n", x0 - 4, py + 4,
                    tick(logY ? Math.pow(10, v) : v)));
            b.append(String.format(Locale.ROOT, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>%n", x0, py, x1, py));
        }
        java.util.TreeSet<Double> xs = new java.util.TreeSet<>();
        series.values().forEach(ps -> ps.forEach(p -> xs.add(p.x())));
        if (xs.size() > 12) { xs.clear(); xs.add(minX); xs.add(maxX); }
        for (double x : xs) {
            double px = x0 + (x - minX) / (maxX - minX) * (x1 - x0);
            b.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>%n", px, y0 + 14, tick(x)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>%n", (x0 + x1) / 2, y0 + 30, esc(xLabel)));
        b.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 12 %.0f)\">%s</text>%n",
                (y0 + y1) / 2, (y0 + y1) / 2, esc(yLabel + (logY ? " (log)" : ""))));
        int i = 0;
        for (Map.Entry<String, List<Point>> e : series.entrySet()) {
            String c = COLOURS[i % COLOURS.length];
            StringBuilder pts = new StringBuilder();
            boolean markers = e.getValue().size() <= 60; // per-step curves read better as a plain line
            for (Point p : e.getValue()) {
                double px = x0 + (p.x() - minX) / (maxX - minX) * (x1 - x0);
                double py = y0 - (y(p.y()) - minY) / (maxY - minY) * (y0 - y1);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                if (markers) b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>%n", px, py, c));
                if (p.err() > 0) {
                    double lo = y0 - (y(logY ? p.y() : p.y() - p.err()) - minY) / (maxY - minY) * (y0 - y1);
                    double hi = y0 - (y(p.y() + p.err()) - minY) / (maxY - minY) * (y0 - y1);
                    b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>%n", px, lo, px, hi, c));
                }
            }
            b.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n", c, pts.toString().trim()));
            double ly = top + 14 + 16 * i;
            if (series.size() > 1) {
                b.append(String.format(Locale.ROOT, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                        x1 + 10, ly - 4, x1 + 28, ly - 4, c));
                b.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%.0f\">%s</text>%n", x1 + 32, ly, esc(e.getKey())));
            }
            i++;
        }
        return b.append("</svg>\n").toString();
    }

    private double y(double v) {
        return logY ? Math.log10(Math.max(v, 1e-30)) : v;
    }

    private static String tick(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e6) return String.format(Locale.ROOT, "%.0f", v);
        return String.format(Locale.ROOT, "%.3g", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
