package dev.vaco.datasets;

import java.util.Map;
import java.util.Objects;

/**
 * One record as read from a file, before it is adapted to a {@link Problem}: a flat map from column
 * name to a Java value (String, Long, Integer, Double, Boolean, or null), plus where it came from so
 * that every error can name file, position and field.
 *
 * @param fields   column values; a missing key and a null value both mean "absent"
 * @param file     file name as given to the loader
 * @param position human-readable 1-based position, {@code line 12} (JSONL) or {@code row 5} (Parquet)
 * @param index    0-based record index within the file (used for default ids)
 */
public record RawRecord(Map<String, Object> fields, String file, String position, long index) {

    public RawRecord {
        Objects.requireNonNull(fields, "fields");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(position, "position");
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, found " + index);
        }
    }

    public boolean has(String field) {
        return fields.get(field) != null;
    }

    /** A required text field: must be present and a string. */
    public String requireString(String field) {
        Object v = fields.get(field);
        if (v == null) {
            throw error(field, fields.containsKey(field) ? "expected a string, found null" : "missing (expected a string)");
        }
        if (!(v instanceof String s)) {
            throw error(field, "expected a string, found " + describe(v));
        }
        if (s.isBlank()) {
            throw error(field, "expected non-blank text, found blank string");
        }
        return s;
    }

    /** An optional text field: null when absent or blank; a non-string value is an error. */
    public String optionalString(String field) {
        Object v = fields.get(field);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw error(field, "expected a string, found " + describe(v));
        }
        return s.isBlank() ? null : s;
    }

    /**
     * An optional field that may be a string or an integer number (e.g. MATH-500's {@code level: 3}
     * versus Hendrycks MATH's {@code "Level 3"}); integers become their decimal string.
     */
    public String optionalStringOrInteger(String field) {
        Object v = fields.get(field);
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            return s.isBlank() ? null : s;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return v.toString();
        }
        throw error(field, "expected a string or an integer, found " + describe(v));
    }

    public DatasetFormatException error(String field, String what) {
        return new DatasetFormatException(file + ": " + position + ": field '" + field + "': " + what);
    }

    static String describe(Object v) {
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Boolean) {
            return "boolean " + v;
        }
        if (v instanceof Number) {
            return "number " + v;
        }
        if (v instanceof java.util.List) {
            return "array";
        }
        if (v instanceof Map) {
            return "object";
        }
        return v.getClass().getSimpleName();
    }
}
