package dev.vaco.reward;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.InputStreamReader;

/**
 * Batch verification of a JSONL file, for the CLI: one {"gold":..,"pred":..} object per line in, one verdict
 * object per line out. Input is decoded leniently (invalid UTF-8 becomes U+FFFD) because model outputs may
 * contain broken bytes and still deserve a verdict; structurally malformed lines stop the run with an
 * {@link InputException} naming file, line and field.
 */
public final class VerifyTool {

    /** Field names to read, and whether the gold field already holds the extracted answer. */
    public record Fields(String gold, String pred, boolean goldExtracted) {
        public Fields {
            if (gold == null || gold.isBlank() || pred == null || pred.isBlank()) {
                throw new IllegalArgumentException("field names: expected non-blank names, found gold=" + gold + " pred=" + pred);
            }
        }

        public static Fields defaults() {
            return new Fields("gold", "pred", false);
        }
    }

    public record Counts(long total, long correct, long wrong, long noAnswer, long unparseable, long timeout) {
        public double accuracy() {
            return total == 0 ? 0 : (double) correct / total;
        }
    }

    public static final class InputException extends IOException {
        private final Path file;
        private final long line;
        private final String field;

        InputException(Path file, long line, String field, String message) {
            super(file + ":" + line + (field == null ? "" : ": field '" + field + "'") + ": " + message);
            this.file = file;
            this.line = line;
            this.field = field;
        }

        public Path file() {
            return file;
        }

        public long line() {
            return line;
        }

        public String field() {
            return field;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private VerifyTool() {
    }

    public static Counts verifyJsonl(Path in, Path out, VerifierConfig config) throws IOException {
        return verifyJsonl(in, out, config, Fields.defaults());
    }

    public static Counts verifyJsonl(Path in, Path out, VerifierConfig config, Fields fields) throws IOException {
        long[] c = new long[6];
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        try (Verifier verifier = new Verifier(config);
             BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(in), decoder));
             BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            String line;
            long lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row;
                try {
                    row = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new InputException(in, lineNo, null, "not valid JSON: " + e.getOriginalMessage());
                }
                if (!row.isObject()) {
                    throw new InputException(in, lineNo, null, "expected a JSON object, found " + row.getNodeType());
                }
                String gold = text(row, fields.gold(), in, lineNo);
                String pred = text(row, fields.pred(), in, lineNo);
                Verdict v = fields.goldExtracted() ? verifier.verifyGold(gold, pred) : verifier.verify(gold, pred);
                c[0]++;
                c[1 + v.status().ordinal()]++;
                ObjectNode o = JSON.createObjectNode();
                o.put("line", lineNo);
                if (row.has("id")) {
                    o.set("id", row.get("id"));
                }
                putVerdict(o, v);
                w.write(JSON.writeValueAsString(o));
                w.newLine();
            }
        }
        return new Counts(c[0], c[1], c[2], c[3], c[4], c[5]);
    }

    static void putVerdict(ObjectNode o, Verdict v) {
        o.put("status", v.status().name());
        o.put("correct", v.correct());
        o.put("gold", v.gold());
        o.put("pred", v.pred());
        o.put("version", v.version());
        o.put("detail", v.detail());
    }

    private static String text(JsonNode row, String field, Path in, long line) throws InputException {
        JsonNode n = row.get(field);
        if (n == null || n.isNull()) {
            throw new InputException(in, line, field, "missing");
        }
        if (!n.isTextual()) {
            if (n.isNumber()) {
                // GSM8K-style golds are often numbers in JSON; their text is the answer
                return n.asText();
            }
            throw new InputException(in, line, field, "expected a string, found " + n.getNodeType());
        }
        return n.asText();
    }
}
