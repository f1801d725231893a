package dev.vaco.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, byte for byte. transformers replaces Jinja's {@code tojson} filter
 * with {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
 * sort_keys=sort_keys)}: tool schemas in prompts are serialized this way, so spacing ({@code ", "}
 * and {@code ": "}), key order (insertion), float format ({@code 1.0}) and non-ASCII handling must
 * match it exactly.
 */
final class Json {
    private Json() { }

    static String dumps(Object v, boolean ensureAscii, Object indent, String itemSep, String keySep, boolean sortKeys) {
        String ind = null;
        if (indent instanceof String s) {
            ind = s;
        } else if (indent != null && Values.isInt(indent)) {
            ind = " ".repeat((int) Math.max(0, Values.asLong(indent)));
        }
        String item = itemSep != null ? itemSep : ind != null ? "," : ", ";
        String key = keySep != null ? keySep : ": ";
        StringBuilder sb = new StringBuilder();
        new Json.Writer(ensureAscii, ind, item, key, sortKeys, sb).write(v, 0);
        return sb.toString();
    }

    private record Writer(boolean ensureAscii, String indent, String itemSep, String keySep, boolean sortKeys,
                          StringBuilder sb) {

        void write(Object v, int level) {
            if (level > 500) {
                throw new TemplateException("tojson: value nested too deeply");
            }
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Boolean b) {
                sb.append(b ? "true" : "false");
            } else if (v instanceof Long l) {
                sb.append(l);
            } else if (v instanceof Double d) {
                sb.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Repr.floatRepr(d));
            } else if (v instanceof String s) {
                string(s);
            } else if (v instanceof List<?> l) {
                if (l.isEmpty()) {
                    sb.append("[]");
                    return;
                }
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(itemSep);
                    }
                    newline(level + 1);
                    write(l.get(i), level + 1);
                }
                newline(level);
                sb.append(']');
            } else if (v instanceof Map<?, ?> m) {
                if (m.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                List<Map.Entry<String, Object>> entries = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    entries.add(Map.entry(key(e.getKey()), e.getValue() == null ? NULL : e.getValue()));
                }
                if (sortKeys) {
                    entries.sort((x, y) -> Values.compare(x.getKey(), y.getKey()));
                }
                sb.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : entries) {
                    if (!first) {
                        sb.append(itemSep);
                    }
                    first = false;
                    newline(level + 1);
                    string(e.getKey());
                    sb.append(keySep);
                    write(e.getValue() == NULL ? null : e.getValue(), level + 1);
                }
                newline(level);
                sb.append('}');
            } else {
                throw new TemplateException("Object of type " + Values.typeName(v) + " is not JSON serializable");
            }
        }

        private static final Object NULL = new Object();

        private String key(Object k) {
            if (k instanceof String s) {
                return s;
            }
            if (k == null) {
                return "null";
            }
            if (k instanceof Boolean b) {
                return b ? "true" : "false";
            }
            if (k instanceof Long || k instanceof Double) {
                return k instanceof Double d ? Repr.floatRepr(d) : k.toString();
            }
            throw new TemplateException("keys must be str, int, float, bool or None, not " + Values.typeName(k));
        }

        private void newline(int level) {
            if (indent != null) {
                sb.append('\n').append(indent.repeat(level));
            }
        }

        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        }
    }
}
