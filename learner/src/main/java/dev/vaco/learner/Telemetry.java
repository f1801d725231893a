package dev.vaco.learner;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/** {@code metrics.jsonl}: one line per learner step (appended, so a resumed run continues the file), plus a console line. */
public final class Telemetry implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final PrintStream console;

    public Telemetry(Path file, PrintStream console) throws IOException {
        Files.createDirectories(file.getParent());
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.console = console;
    }

    public void step(int step, long version, double seconds, Map<String, Double> m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", step).put("version", version).put("time_s", seconds);
        m.forEach((k, v) -> {
            if (v == null || v.isNaN() || v.isInfinite()) o.putNull(k);
            else o.put(k, v);
        });
        write(o);
        if (console != null) {
            console.printf("step %4d v%-4d | reward %.3f | len %5.1f | ent %.3f | tv %.3f filt %.3f clip %.3f | kl %.1e mis %.1e | lag %.2f | %.1f s%n",
                    step, version, g(m, "reward/mean"), g(m, "response/length_mean"), g(m, "policy/entropy"),
                    g(m, "lag/tv"), g(m, "vaco/filtered_frac"), g(m, "ppo/clip_frac"),
                    g(m, "policy/consecutive_kl"), g(m, "mismatch/kl_k3"), g(m, "lag/mean"), seconds);
        }
    }

    /** An evaluation line: {@code {"step", "version", "eval/accuracy", ...}}. */
    public void eval(int step, long version, double accuracy, double lo, double hi, double seconds) {
        eval(step, version, accuracy, lo, hi, seconds, Map.of());
    }

    /** The same with the accuracy of each synthetic level, as {@code "eval/level_L/accuracy"} (verl: val per data source). */
    public void eval(int step, long version, double accuracy, double lo, double hi, double seconds, Map<String, Double> byLevel) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", step).put("version", version).put("eval/accuracy", accuracy).put("eval/ci_low", lo)
                .put("eval/ci_high", hi).put("time_s", seconds);
        StringBuilder levels = new StringBuilder();
        byLevel.forEach((level, acc) -> {
            o.put("eval/level_" + level + "/accuracy", acc);
            levels.append(String.format("  L%s %.1f%%", level, 100 * acc));
        });
        write(o);
        if (console != null) {
            console.printf("eval step %d v%d: greedy accuracy %.1f%% [%.1f, %.1f]%s  (%.1f s)%n", step, version, 100 * accuracy,
                    100 * lo, 100 * hi, levels, seconds);
        }
    }

    /** One line, flushed: a killed run keeps every line it printed. */
    private void write(ObjectNode o) {
        try {
            out.write(o.toString());
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double g(Map<String, Double> m, String k) {
        Double v = m.get(k);
        return v == null ? 0 : v;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
