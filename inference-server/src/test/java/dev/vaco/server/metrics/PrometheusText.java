package dev.vaco.server.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4 (prometheus.io, "Exposition formats"),
 * written as the test oracle for {@code /metrics}: Maven Central has Prometheus's writers but no Java parser. Every
 * line is checked, and any departure from the format throws naming the line:
 *
 * <pre>
 *   # HELP name docstring            (escapes \\ and \n; at most once per name)
 *   # TYPE name counter|gauge|histogram|summary|untyped   (at most once, before the name's first sample)
 *   # anything else                  (a comment)
 *   name[{label="value",...}] value [timestamp]
 *     name  [a-zA-Z_:][a-zA-Z0-9_:]*      label [a-zA-Z_][a-zA-Z0-9_]*, not starting "__", not repeated
 *     value Go's ParseFloat (NaN, +Inf, -Inf too)   label value escapes \\ \" \n   timestamp an int64
 * </pre>
 *
 * Families: a histogram {@code X} has samples {@code X_bucket} (with {@code le}), {@code X_sum}, {@code X_count};
 * a summary {@code X} has {@code X} (with {@code quantile}), {@code X_sum}, {@code X_count}; other types a sample named
 * as the family. A family's samples are one contiguous group; no (name, labels) repeats; counters, histogram
 * buckets and counts are non-negative; buckets are cumulative, in increasing {@code le}, ending at {@code +Inf} =
 * {@code _count}.
 */
public final class PrometheusText {
    public record Sample(String name, Map<String, String> labels, double value) {}

    public record Family(String name, String type, String help, List<Sample> samples) {
        /** The value of the sample with these labels (label pairs k1, v1, k2, v2 ...); throws if there is none. */
        public double value(String... labelPairs) {
            Map<String, String> want = new TreeMap<>();
            for (int i = 0; i + 1 < labelPairs.length; i += 2) want.put(labelPairs[i], labelPairs[i + 1]);
            for (Sample s : samples) if (new TreeMap<>(s.labels()).equals(want) && s.name().equals(name)) return s.value();
            throw new AssertionError("no sample " + name + want + " in " + samples);
        }
    }

    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final Map<String, String> types = new LinkedHashMap<>();
    private final Map<String, String> helps = new LinkedHashMap<>();
    private final Set<String> closed = new HashSet<>();
    private final Set<String> seen = new HashSet<>();
    private String current;
    private int lineNo;

    private PrometheusText() {}

    /** Every family of {@code text}, by name, in order of first appearance. */
    public static Map<String, Family> parse(String text) {
        PrometheusText p = new PrometheusText();
        if (!text.isEmpty() && !text.endsWith("\n")) throw new IllegalArgumentException("the text must end with a line feed");
        for (String line : text.split("\n", -1)) {
            p.lineNo++;
            p.line(line);
        }
        p.families.values().forEach(PrometheusText::checkFamily);
        return p.families;
    }

    private void line(String line) {
        if (line.isEmpty()) return;
        if (line.startsWith("#")) {
            comment(line);
            return;
        }
        sample(line);
    }

    private void comment(String line) {
        String[] t = line.split("[ \t]+", 4);
        if (t.length < 3 || !t[0].equals("#") || !(t[1].equals("HELP") || t[1].equals("TYPE"))) return; // a comment
        String name = t[2];
        if (!name.matches(NAME)) fail("bad metric name '" + name + "'");
        if (t[1].equals("HELP")) {
            if (helps.put(name, unescape(t.length > 3 ? t[3] : "", false)) != null) fail("a second HELP for " + name);
        } else {
            String type = t.length > 3 ? t[3].strip() : "";
            if (!TYPES.contains(type)) fail("unknown type '" + type + "' for " + name);
            if (types.put(name, type) != null) fail("a second TYPE for " + name);
            if (families.containsKey(name)) fail("TYPE for " + name + " after its samples");
        }
    }

    private void sample(String line) {
        int i = 0;
        while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_' || line.charAt(i) == ':')) i++;
        String name = line.substring(0, i);
        if (!name.matches(NAME)) fail("bad metric name '" + name + "'");
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') i = labels(line, i + 1, labels);
        String[] rest = line.substring(i).strip().split("[ \t]+");
        if (i >= line.length() || (line.charAt(i) != ' ' && line.charAt(i) != '\t')) fail("no blank before the value");
        if (rest.length < 1 || rest.length > 2 || rest[0].isEmpty()) fail("expected a value and an optional timestamp");
        double v = number(rest[0]);
        if (rest.length == 2 && !rest[1].matches("-?[0-9]+")) fail("bad timestamp '" + rest[1] + "'");
        String family = familyOf(name, labels);
        if (!family.equals(current)) {
            if (closed.contains(family)) fail("samples of " + family + " are not one group");
            if (current != null) closed.add(current);
            current = family;
        }
        if (!seen.add(name + new TreeMap<>(labels))) fail("sample " + name + labels + " repeated");
        families.computeIfAbsent(family, f -> new Family(f, types.getOrDefault(f, "untyped"), helps.get(f), new ArrayList<>()))
                .samples().add(new Sample(name, labels, v));
    }

    /** Parses {@code label="value",...}} from {@code i}; returns the index after the closing brace. */
    private int labels(String line, int i, Map<String, String> out) {
        while (true) {
            if (i < line.length() && line.charAt(i) == '}') return i + 1;
            int eq = line.indexOf('=', i);
            if (eq < 0) fail("unterminated label set");
            String label = line.substring(i, eq);
            if (!label.matches(LABEL) || label.startsWith("__")) fail("bad label name '" + label + "'");
            if (eq + 1 >= line.length() || line.charAt(eq + 1) != '"') fail("label value of " + label + " not quoted");
            StringBuilder value = new StringBuilder();
            int j = eq + 2;
            for (; j < line.length() && line.charAt(j) != '"'; j++) {
                char c = line.charAt(j);
                if (c == '\\') {
                    if (++j >= line.length()) fail("unterminated escape");
                    char e = line.charAt(j);
                    if (e == 'n') value.append('\n');
                    else if (e == '\\' || e == '"') value.append(e);
                    else fail("bad escape \\" + e + " in label " + label);
                } else value.append(c);
            }
            if (j >= line.length()) fail("unterminated label value of " + label);
            if (out.put(label, value.toString()) != null) fail("label " + label + " repeated");
            i = j + 1;
            if (i < line.length() && line.charAt(i) == ',') i++;
            else if (i >= line.length() || line.charAt(i) != '}') fail("expected ',' or '}' after label " + label);
        }
    }

    /** The family a sample belongs to: by its TYPE'd name, or the histogram / summary whose suffix it carries. */
    private String familyOf(String name, Map<String, String> labels) {
        for (String suffix : new String[] {"_bucket", "_sum", "_count"}) {
            if (!name.endsWith(suffix)) continue;
            String base = name.substring(0, name.length() - suffix.length());
            String t = types.get(base);
            if ("histogram".equals(t)) {
                if (suffix.equals("_bucket") != labels.containsKey("le")) fail(name + ": le belongs on buckets only");
                return base;
            }
            if ("summary".equals(t) && !suffix.equals("_bucket")) return base;
        }
        String t = types.get(name);
        if ("histogram".equals(t)) fail("histogram " + name + " has a bare sample");
        if ("summary".equals(t) && !labels.containsKey("quantile")) fail("summary " + name + " sample without quantile");
        return name;
    }

    private double number(String s) {
        switch (s) {
            case "NaN": return Double.NaN;
            case "+Inf", "Inf": return Double.POSITIVE_INFINITY;
            case "-Inf": return Double.NEGATIVE_INFINITY;
            default:
                if (!s.matches("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?")) fail("bad value '" + s + "'");
                return Double.parseDouble(s);
        }
    }

    private String unescape(String s, boolean quotes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (++i >= s.length()) fail("unterminated escape");
            char e = s.charAt(i);
            if (e == 'n') b.append('\n');
            else if (e == '\\' || (quotes && e == '"')) b.append(e);
            else fail("bad escape \\" + e);
        }
        return b.toString();
    }

    private static void checkFamily(Family f) {
        for (Sample s : f.samples()) {
            boolean nonNegative = f.type().equals("counter") || s.name().endsWith("_count") || s.name().endsWith("_bucket");
            if (nonNegative && !(s.value() >= 0)) throw new IllegalArgumentException(s.name() + " negative: " + s.value());
        }
        if (!f.type().equals("histogram")) return;
        // per label set (le aside): buckets in increasing le, cumulative, +Inf last and equal to _count
        Map<Map<String, String>, List<Sample>> byLabels = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample s : f.samples()) {
            Map<String, String> key = new TreeMap<>(s.labels());
            key.remove("le");
            if (s.name().endsWith("_bucket")) byLabels.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
            if (s.name().endsWith("_count")) counts.put(key, s.value());
        }
        byLabels.forEach((key, buckets) -> {
            double le = Double.NEGATIVE_INFINITY, n = 0;
            for (Sample b : buckets) {
                double l = Double.parseDouble(b.labels().get("le").replace("+Inf", "Infinity"));
                if (!(l > le) || b.value() < n) throw new IllegalArgumentException(f.name() + key + ": buckets not cumulative in increasing le");
                le = l;
                n = b.value();
            }
            if (le != Double.POSITIVE_INFINITY) throw new IllegalArgumentException(f.name() + key + ": no +Inf bucket");
            if (!Double.valueOf(n).equals(counts.get(key))) throw new IllegalArgumentException(f.name() + key + ": +Inf bucket != _count");
        });
    }

    private void fail(String why) {
        throw new IllegalArgumentException("line " + lineNo + ": " + why);
    }
}
