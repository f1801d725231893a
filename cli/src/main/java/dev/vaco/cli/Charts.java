package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.trainer.experiment.SvgChart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Curves of a run from its {@code metrics.jsonl}: a terminal chart and an SVG file (no plotting library: a few
 * polylines are all it takes, and SVG opens in any browser).
 */
final class Charts {
    private Charts() {}

    /** One curve: x = learner step. */
    record Series(String title, String key, List<double[]> points) {}

    static List<Series> read(Path metrics) throws IOException {
        ObjectMapper json = new ObjectMapper();
        String[][] wanted = {{"held-out greedy accuracy", "eval/accuracy"}, {"reward (training samples)", "reward/mean"},
                {"token lag (mean, versions)", "lag/mean"}, {"TV to behaviour policy", "vaco/tv_behaviour"}};
        List<Series> out = new ArrayList<>();
        for (String[] w : wanted) out.add(new Series(w[0], w[1], new ArrayList<>()));
        for (String line : Files.readAllLines(metrics)) {
            if (line.isBlank()) continue;
            JsonNode j = json.readTree(line);
            for (Series s : out) {
                JsonNode v = j.get(s.key());
                if (v != null && v.isNumber()) s.points().add(new double[] {j.path("step").asDouble(), v.asDouble()});
            }
        }
        return out;
    }

    /** A small text chart of one series, {@code height} rows by {@code width} columns. */
    static String terminal(Series s, int width, int height) {
        List<double[]> p = s.points();
        if (p.isEmpty()) return s.title() + ": (no data)\n";
        double minX = p.get(0)[0], maxX = p.get(p.size() - 1)[0], minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (double[] q : p) {
            minY = Math.min(minY, q[1]);
            maxY = Math.max(maxY, q[1]);
        }
        if (maxY - minY < 1e-12) maxY = minY + 1e-12;
        char[][] grid = new char[height][width];
        for (char[] row : grid) java.util.Arrays.fill(row, ' ');
        for (double[] q : p) {
            int x = maxX == minX ? 0 : (int) Math.round((q[0] - minX) / (maxX - minX) * (width - 1));
            int y = (int) Math.round((q[1] - minY) / (maxY - minY) * (height - 1));
            grid[height - 1 - y][x] = '*';
        }
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s  (steps %.0f..%.0f)%n", s.title(), minX, maxX));
        for (int r = 0; r < height; r++) {
            double label = maxY - (maxY - minY) * r / (height - 1);
            b.append(String.format(Locale.ROOT, "%9.3f |", label)).append(grid[r]).append('\n');
        }
        b.append("          +").append("-".repeat(width)).append('\n');
        return b.toString();
    }

    /** Writes the series as a 2x2 grid of line charts (each an {@link SvgChart}, nested at its place in the grid). */
    static void svg(List<Series> series, Path file, String heading) throws IOException {
        int w = 420, h = 240, cols = 2;
        int rows = (series.size() + cols - 1) / cols;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
                cols * w, rows * h + 30));
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>%n", escape(heading)));
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            SvgChart chart = new SvgChart(s.title(), "step", "", false);
            for (double[] p : s.points()) chart.add(s.title(), p[0], p[1], 0);
            String at = String.format(Locale.ROOT, "<svg x=\"%d\" y=\"%d\" ", (i % cols) * w, 30 + (i / cols) * h);
            b.append(chart.render(w, h).replaceFirst("<svg ", at));
        }
        b.append("</svg>\n");
        Files.writeString(file, b.toString());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
