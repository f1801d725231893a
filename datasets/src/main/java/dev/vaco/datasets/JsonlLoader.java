package dev.vaco.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads JSON Lines: one JSON object per line, UTF-8; blank lines are skipped. Line numbers are 1-based. */
public final class JsonlLoader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonlLoader() {
    }

    public static List<Problem> load(Path file, RecordAdapter adapter, String source) {
        return load(file, adapter, source, 0);
    }

    /** @param firstIndex record index of the first record (shards of one split continue each other's numbering) */
    static List<Problem> load(Path file, RecordAdapter adapter, String source, long firstIndex) {
        List<Problem> out = new ArrayList<>();
        String name = file.toString();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            long index = firstIndex;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String position = "line " + lineNo;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new DatasetFormatException(name + ": " + position + ": invalid JSON: "
                            + e.getOriginalMessage(), e);
                }
                if (node == null || !node.isObject()) {
                    throw new DatasetFormatException(name + ": " + position + ": expected a JSON object, found "
                            + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase()));
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> fields = (Map<String, Object>) toJava(node);
                out.add(Loaders.adapt(adapter, new RawRecord(fields, name, position, index++), source));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DatasetFormatException(name + ": no records (empty file; expected one JSON object per line)");
        }
        return out;
    }

    static Object toJava(JsonNode n) {
        switch (n.getNodeType()) {
            case NULL:
            case MISSING:
                return null;
            case STRING:
                return n.textValue();
            case BOOLEAN:
                return n.booleanValue();
            case NUMBER:
                return n.isIntegralNumber() && n.canConvertToLong() ? (Object) n.longValue() : (Object) n.doubleValue();
            case ARRAY: {
                List<Object> list = new ArrayList<>();
                n.forEach(e -> list.add(toJava(e)));
                return list;
            }
            case OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    map.put(e.getKey(), toJava(e.getValue()));
                }
                return map;
            }
            default:
                return n.toString();
        }
    }
}
