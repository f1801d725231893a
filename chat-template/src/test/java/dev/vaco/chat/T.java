package dev.vaco.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/** Test helper: render an inline template with key/value context pairs. */
final class T {
    private T() { }

    static String r(String source, Object... keyValues) {
        Map<String, Object> ctx = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            ctx.put((String) keyValues[i], keyValues[i + 1]);
        }
        return ChatTemplate.compile(source).render(ctx);
    }
}
