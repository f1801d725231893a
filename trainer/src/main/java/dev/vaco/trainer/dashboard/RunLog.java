package dev.vaco.trainer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * One run directory's {@code metrics.jsonl}, read as it grows: {@link #refresh} reads the bytes appended since the
 * last call and keeps every complete line (a line is complete at its line feed: the trainer flushes whole lines, and
 * a killed run's torn last line is never shown). Line i of the file is event i of the page's stream.
 */
final class RunLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    final String id;
    final Path dir;
    private final List<String> lines = new ArrayList<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private long offset;
    private final ObjectNode settings;

    RunLog(String id, Path dir) {
        this.id = id;
        this.dir = dir;
        this.settings = settings(id, dir);
    }

    /** Reads what was appended since the last call; returns the new complete lines (parsed; unparseable ones skipped). */
    synchronized List<JsonNode> refresh() {
        Path file = dir.resolve("metrics.jsonl");
        List<JsonNode> added = new ArrayList<>();
        try {
            if (!Files.isRegularFile(file) || Files.size(file) <= offset) return added;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size() - offset, 16 << 20));
                offset += ch.read(buf, offset);
                for (int i = 0; i < buf.position(); i++) {
                    byte b = buf.get(i);
                    if (b != '\n') {
                        partial.write(b);
                        continue;
                    }
                    String line = partial.toString(StandardCharsets.UTF_8).strip();
                    partial.reset();
                    JsonNode node = parse(line);
                    if (node == null) continue;
                    lines.add(node.toString());
                    added.add(node);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return added;
    }

    private static JsonNode parse(String line) {
        if (line.isEmpty()) return null;
        try {
            JsonNode n = JSON.readTree(line);
            return n != null && n.isObject() ? n : null;
        } catch (IOException e) {
            return null; // not a metrics line: never shown
        }
    }

    /** Lines {@code from}, {@code from + 1}, ... read so far (as JSON text). */
    synchronized List<String> since(int from) {
        return from >= lines.size() ? List.of() : new ArrayList<>(lines.subList(from, lines.size()));
    }

    synchronized int size() {
        return lines.size();
    }

    /** The run's identity and the settings the page labels its charts with ({@link #settings}). */
    ObjectNode info(boolean live) {
        return settings.deepCopy().put("live", live);
    }

    /**
     * The settings from {@code config.json} when present, read once when the log is made: the page asks for them on
     * the event loop, and a run's configuration does not change while it runs.
     */
    private static ObjectNode settings(String id, Path dir) {
        ObjectNode o = JSON.createObjectNode().put("id", id).put("dir", dir.toString());
        Path cfg = dir.resolve("config.json");
        try {
            JsonNode c = Files.isRegularFile(cfg) ? JSON.readTree(cfg.toFile()) : null;
            if (c != null) {
                o.put("objective", c.path("objective").path("name").asText(""));
                o.put("max_staleness", c.path("rollout").path("max_staleness").asInt());
                o.put("lag", c.path("rollout").path("lag").asInt());
                o.put("prompts_per_step", c.path("rollout").path("prompts_per_step").asInt());
                o.put("group_size", c.path("rollout").path("group_size").asInt());
                o.put("steps", c.path("run").path("steps").asInt());
            }
        } catch (IOException e) {
            o.put("config_error", cfg + ": " + e.getMessage());
        }
        return o;
    }
}
