package dev.vaco.server.http;

import dev.vaco.server.sampling.InvalidRequestException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Typed, strict reads of request JSON. Every failure is an {@link InvalidRequestException} naming the field, so that
 * the route turns it into a 400 with {@code {"error": {"message", "type": "invalid_request_error", "param"}}}.
 */
final class JsonFields {
    private final JsonObject o;

    private JsonFields(JsonObject o) {
        this.o = o;
    }

    /** Decodes the body as strict UTF-8 (Vert.x would silently replace bad bytes) and parses a JSON object. */
    static JsonFields parse(Buffer body) {
        if (body == null || body.length() == 0) throw new InvalidRequestException("body", "body must be a JSON object, found nothing");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body.getBytes())).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidRequestException("body", "body is not valid UTF-8");
        }
        Object v;
        try {
            v = io.vertx.core.json.Json.decodeValue(text);
        } catch (DecodeException e) {
            throw new InvalidRequestException("body", "body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(v instanceof JsonObject obj)) throw new InvalidRequestException("body", "body must be a JSON object");
        return new JsonFields(obj);
    }

    static JsonFields of(JsonObject o) {
        return new JsonFields(o);
    }

    JsonObject raw() {
        return o;
    }

    /** Refuses fields the route does not honour: a silently ignored field is worse than an error. */
    void allowOnly(Set<String> allowed) {
        for (String f : o.fieldNames()) {
            if (!allowed.contains(f)) {
                throw new InvalidRequestException(f, "unknown or unsupported field '" + f + "'");
            }
        }
    }

    boolean has(String f) {
        return o.containsKey(f) && o.getValue(f) != null;
    }

    String string(String f, String dflt) {
        Object v = o.getValue(f);
        if (v == null) return dflt;
        if (!(v instanceof String s)) throw new InvalidRequestException(f, f + " must be a string, found " + kind(v));
        return s;
    }

    boolean bool(String f, boolean dflt) {
        Object v = o.getValue(f);
        if (v == null) return dflt;
        if (!(v instanceof Boolean b)) throw new InvalidRequestException(f, f + " must be true or false, found " + kind(v));
        return b;
    }

    double number(String f, double dflt) {
        Object v = o.getValue(f);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new InvalidRequestException(f, f + " must be a number, found " + kind(v));
        double d = n.doubleValue();
        if (!Double.isFinite(d)) throw new InvalidRequestException(f, f + " must be finite, found " + d);
        return d;
    }

    Long integer(String f, Long dflt) {
        Object v = o.getValue(f);
        if (v == null) return dflt;
        if (v instanceof Number n && (n instanceof Integer || n instanceof Long
                || (n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 9e15))) {
            if (n instanceof java.math.BigInteger || n instanceof java.math.BigDecimal) {
                throw new InvalidRequestException(f, f + " is out of range");
            }
            return n.longValue();
        }
        throw new InvalidRequestException(f, f + " must be an integer, found " + kind(v));
    }

    int integer(String f, int dflt, int min, int max) {
        long v = integer(f, (long) dflt);
        if (v < min || v > max) throw new InvalidRequestException(f, f + " must be in [" + min + ", " + max + "], found " + v);
        return (int) v;
    }

    /** A string or a list of strings (OpenAI's {@code stop}). */
    List<String> stringOrList(String f) {
        Object v = o.getValue(f);
        if (v == null) return List.of();
        if (v instanceof String s) return List.of(s);
        if (v instanceof JsonArray a) {
            List<String> out = new ArrayList<>();
            for (Object x : a) {
                if (!(x instanceof String s)) throw new InvalidRequestException(f, f + " must hold strings, found " + kind(x));
                out.add(s);
            }
            return out;
        }
        throw new InvalidRequestException(f, f + " must be a string or a list of strings, found " + kind(v));
    }

    int[] intArray(String f, int maxValueExclusive) {
        Object v = o.getValue(f);
        if (v == null) return null;
        if (!(v instanceof JsonArray a)) throw new InvalidRequestException(f, f + " must be a list of token ids, found " + kind(v));
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            Object x = a.getValue(i);
            if (!(x instanceof Integer || x instanceof Long) || ((Number) x).longValue() < 0
                    || ((Number) x).longValue() >= maxValueExclusive) {
                throw new InvalidRequestException(f, f + "[" + i + "] must be a token id in [0, " + maxValueExclusive + "), found " + x);
            }
            out[i] = ((Number) x).intValue();
        }
        return out;
    }

    List<Integer> intList(String f, int maxValueExclusive) {
        int[] a = intArray(f, maxValueExclusive);
        List<Integer> out = new ArrayList<>();
        if (a != null) for (int x : a) out.add(x);
        return out;
    }

    JsonArray array(String f) {
        Object v = o.getValue(f);
        if (v == null) return null;
        if (!(v instanceof JsonArray a)) throw new InvalidRequestException(f, f + " must be a list, found " + kind(v));
        return a;
    }

    JsonObject object(String f) {
        Object v = o.getValue(f);
        if (v == null) return null;
        if (!(v instanceof JsonObject j)) throw new InvalidRequestException(f, f + " must be an object, found " + kind(v));
        return j;
    }

    static String kind(Object v) {
        if (v == null) return "null";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        if (v instanceof Number) return "the number " + v;
        if (v instanceof JsonArray) return "a list";
        if (v instanceof JsonObject) return "an object";
        return v.getClass().getSimpleName();
    }
}
