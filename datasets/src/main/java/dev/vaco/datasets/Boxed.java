package dev.vaco.datasets;

/**
 * Extraction of the content of the last {@code \boxed{...}} in a LaTeX solution, with balanced braces
 * (MATH golds such as {@code \boxed{\frac{14}{3}}} nest). Kept local so that loading data does not
 * depend on the verifier module; the verifier has its own, more lenient extraction for model output.
 */
public final class Boxed {

    private Boxed() {
    }

    /**
     * @return the content of the last {@code \boxed{...}} (or {@code \fbox{...}}), stripped, or null if
     *         there is none or its braces never close
     */
    public static String lastBoxed(String text) {
        if (text == null) {
            return null;
        }
        int at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"));
        while (at >= 0) {
            String content = braced(text, at);
            if (content != null) {
                return content;
            }
            // An unclosed last box: fall back to an earlier one rather than failing the whole record.
            int prevBoxed = at == 0 ? -1 : text.lastIndexOf("\\boxed", at - 1);
            int prevFbox = at == 0 ? -1 : text.lastIndexOf("\\fbox", at - 1);
            at = Math.max(prevBoxed, prevFbox);
        }
        return null;
    }

    private static String braced(String text, int commandStart) {
        int i = text.indexOf('{', commandStart);
        if (i < 0) {
            return null;
        }
        // Only whitespace may sit between the command and its opening brace.
        int nameEnd = text.startsWith("\\boxed", commandStart) ? commandStart + 6 : commandStart + 5;
        if (!text.substring(nameEnd, i).isBlank()) {
            return null;
        }
        int depth = 0;
        for (int j = i; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '\\' && j + 1 < text.length() && (text.charAt(j + 1) == '{' || text.charAt(j + 1) == '}')) {
                j++; // escaped brace \{ or \} does not change depth
                continue;
            }
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
                if (depth == 0) {
                    String s = text.substring(i + 1, j).strip();
                    return s.isEmpty() ? null : s;
                }
            }
        }
        return null;
    }
}
