package dev.vaco.chat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Splits template source into text and tag tokens, applying Jinja's whitespace rules as Hugging Face
 * configures them.
 *
 * <p>transformers renders chat templates with {@code ImmutableSandboxedEnvironment(trim_blocks=True,
 * lstrip_blocks=True)}. Template authors write for that environment (indented {@code {% if %}} lines
 * that must leave no trace in the prompt), so the same bytes only come out if we apply the same rules:
 * <ul>
 *   <li>trim_blocks: the first newline directly after a block or comment tag is dropped;</li>
 *   <li>lstrip_blocks: spaces/tabs from the start of a line up to a block or comment tag are dropped
 *       ({@code {%+} opts out; {@code {{} expressions are never lstripped);</li>
 *   <li>{@code {%-}/{@code -%}} (and the {@code {{-}/{@code -}}}/{@code #} forms) strip all
 *       whitespace, newlines included, on that side;</li>
 *   <li>{@code \r\n} and {@code \r} become {@code \n}, and one trailing newline of the source is
 *       dropped (Jinja's default {@code keep_trailing_newline=False}).</li>
 * </ul>
 * The rules, including the "line starting" bookkeeping, mirror {@code jinja2.lexer.Lexer.tokeniter}.
 */
final class Lexer {

    enum Type { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Type type, String value, int line, int col) {
        boolean is(Type t, String v) {
            return type == t && value.equals(v);
        }

        boolean isName(String v) {
            return type == Type.NAME && value.equals(v);
        }

        boolean isOp(String v) {
            return type == Type.OP && value.equals(v);
        }

        @Override
        public String toString() {
            return type == Type.EOF ? "end of template" : "'" + value + "'";
        }
    }

    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}", ";"
    };

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private boolean lineStarting = true;

    private Lexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        this.src = s;
    }

    static List<Token> tokenize(String source) {
        Lexer lx = new Lexer(source);
        lx.run();
        return lx.out;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = findTagStart(pos);
            if (tag < 0) {
                emit(Type.TEXT, src.substring(pos), pos);
                pos = src.length();
                break;
            }
            char kind = src.charAt(tag + 1);
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            boolean hasSign = sign == '-' || sign == '+';
            String text = src.substring(pos, tag);
            if (sign == '-') {
                text = rstrip(text);
            } else if (sign != '+' && kind != '{') {
                // lstrip_blocks: only whitespace between the line start and the tag is removed.
                int l = text.lastIndexOf('\n') + 1;
                if ((l > 0 || lineStarting) && l < text.length() && text.substring(l).isBlank()) {
                    text = text.substring(0, l);
                }
            }
            if (!text.isEmpty()) {
                emit(Type.TEXT, text, pos);
            }
            int bodyStart = tag + 2 + (hasSign ? 1 : 0);
            if (kind == '#') {
                lexComment(tag, bodyStart);
            } else if (kind == '%' && isRawStart(bodyStart)) {
                lexRaw(tag, bodyStart);
            } else {
                emit(kind == '{' ? Type.VAR_BEGIN : Type.BLOCK_BEGIN, src.substring(tag, bodyStart), tag);
                pos = bodyStart;
                lexTag(kind == '{', tag);
            }
        }
        emit(Type.EOF, "", src.length());
    }

    private int findTagStart(int from) {
        int i = from;
        while (true) {
            i = src.indexOf('{', i);
            if (i < 0 || i + 1 >= src.length()) {
                return -1;
            }
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i++;
        }
    }

    private void lexComment(int tag, int bodyStart) {
        int end = src.indexOf("#}", bodyStart);
        if (end < 0) {
            throw error("unterminated comment", tag);
        }
        char before = end > bodyStart ? src.charAt(end - 1) : 0;
        pos = end + 2;
        finishTagEnd(before == '-', before == '+', true);
    }

    /** After a tag's closing delimiter: {@code -} strips all whitespace, else trim_blocks eats one newline. */
    private void finishTagEnd(boolean strip, boolean plus, boolean block) {
        int start = pos;
        if (strip) {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                pos++;
            }
        } else if (block && !plus && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        // Jinja's "line starting" flag: true when the consumed tag end finished a line.
        lineStarting = pos > start && src.charAt(pos - 1) == '\n';
    }

    private boolean isRawStart(int p) {
        int i = skipWs(p);
        if (!src.startsWith("raw", i)) {
            return false;
        }
        i = skipWs(i + 3);
        return src.startsWith("%}", i) || src.startsWith("-%}", i) || src.startsWith("+%}", i);
    }

    private void lexRaw(int tag, int bodyStart) {
        int i = skipWs(skipWs(bodyStart) + 3);
        boolean strip = src.charAt(i) == '-';
        pos = i + (strip || src.charAt(i) == '+' ? 3 : 2);
        finishTagEnd(strip, true, true); // Jinja applies no trim_blocks after {% raw %}
        int search = pos;
        while (true) {
            int e = src.indexOf("{%", search);
            if (e < 0) {
                throw error("missing endraw for raw block", tag);
            }
            int j = e + 2;
            boolean endStripBefore = j < src.length() && src.charAt(j) == '-';
            if (j < src.length() && (src.charAt(j) == '-' || src.charAt(j) == '+')) {
                j++;
            }
            j = skipWs(j);
            if (src.startsWith("endraw", j)) {
                int k = skipWs(j + 6);
                boolean s2 = src.startsWith("-%}", k);
                boolean p2 = src.startsWith("+%}", k);
                if (s2 || p2 || src.startsWith("%}", k)) {
                    String body = src.substring(pos, e);
                    boolean endPlus = src.charAt(e + 2) == '+';
                    if (endStripBefore) {
                        body = rstrip(body);
                    } else if (!endPlus) { // lstrip_blocks applies to {% endraw %}
                        int l = body.lastIndexOf('\n') + 1;
                        if ((l > 0 || lineStarting) && l < body.length() && body.substring(l).isBlank()) {
                            body = body.substring(0, l);
                        }
                    }
                    if (!body.isEmpty()) {
                        emit(Type.TEXT, body, pos);
                    }
                    pos = k + (s2 || p2 ? 3 : 2);
                    finishTagEnd(s2, p2, true);
                    return;
                }
            }
            search = e + 2;
        }
    }

    private int skipWs(int p) {
        while (p < src.length() && Character.isWhitespace(src.charAt(p))) {
            p++;
        }
        return p;
    }

    /** Expression tokens up to the matching {@code }}}/{@code %}}; delimiters inside brackets do not close. */
    private void lexTag(boolean variable, int tagStart) {
        Deque<Character> balance = new ArrayDeque<>();
        while (true) {
            pos = skipWs(pos);
            if (pos >= src.length()) {
                throw error("unexpected end of template, expected '" + (variable ? "}}" : "%}") + "'", tagStart);
            }
            if (balance.isEmpty()) {
                String close = variable ? "}}" : "%}";
                char c = src.charAt(pos);
                boolean strip = c == '-' && src.startsWith(close, pos + 1);
                boolean plus = c == '+' && src.startsWith(close, pos + 1);
                if (strip || plus || src.startsWith(close, pos)) {
                    int at = pos;
                    pos += close.length() + (strip || plus ? 1 : 0);
                    emit(variable ? Type.VAR_END : Type.BLOCK_END, src.substring(at, pos), at);
                    finishTagEnd(strip, plus, !variable);
                    return;
                }
            }
            char c = src.charAt(pos);
            int start = pos;
            if (Character.isDigit(c)) {
                boolean afterDot = !out.isEmpty() && out.get(out.size() - 1).isOp(".");
                lexNumber(afterDot);
            } else if (c == '_' || Character.isLetter(c)) {
                while (pos < src.length() && (src.charAt(pos) == '_' || Character.isLetterOrDigit(src.charAt(pos)))) {
                    pos++;
                }
                emit(Type.NAME, src.substring(start, pos), start);
            } else if (c == '\'' || c == '"') {
                lexString(c);
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw error("unexpected character '" + c + "'", pos);
                }
                if (op.equals("(") || op.equals("[") || op.equals("{")) {
                    balance.push(op.charAt(0));
                } else if (op.equals(")") || op.equals("]") || op.equals("}")) {
                    char want = op.equals(")") ? '(' : op.equals("]") ? '[' : '{';
                    if (balance.isEmpty() || balance.peek() != want) {
                        throw error("unexpected '" + op + "'", pos);
                    }
                    balance.pop();
                }
                pos += op.length();
                emit(Type.OP, op, start);
            }
        }
    }

    private void lexNumber(boolean afterDot) {
        int start = pos;
        pos = digits(pos);
        boolean isFloat = false;
        if (!afterDot) {
            if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
                pos = digits(pos + 1);
                isFloat = true;
            }
            if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
                int p = pos + 1;
                if (p < src.length() && (src.charAt(p) == '+' || src.charAt(p) == '-')) {
                    p++;
                }
                if (p < src.length() && Character.isDigit(src.charAt(p))) {
                    pos = digits(p);
                    isFloat = true;
                }
            }
        }
        emit(isFloat ? Type.FLOAT : Type.INT, src.substring(start, pos).replace("_", ""), start);
    }

    private int digits(int p) {
        while (p < src.length() && (Character.isDigit(src.charAt(p))
                || (src.charAt(p) == '_' && p + 1 < src.length() && Character.isDigit(src.charAt(p + 1))))) {
            p++;
        }
        return p;
    }

    /** String literal with Python escape semantics (Jinja decodes literals with {@code unicode-escape}). */
    private void lexString(char quote) {
        int start = pos;
        StringBuilder sb = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw error("unterminated string", start);
            }
            char c = src.charAt(pos);
            if (c == quote) {
                pos++;
                break;
            }
            if (c != '\\') {
                sb.append(c);
                pos++;
                continue;
            }
            if (pos + 1 >= src.length()) {
                throw error("unterminated string", start);
            }
            char e = src.charAt(pos + 1);
            pos += 2;
            switch (e) {
                case '\n' -> { }
                case '\\', '\'', '"' -> sb.append(e);
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'v' -> sb.append('\u000b');
                case 'x' -> sb.appendCodePoint(hex(2, start));
                case 'u' -> sb.appendCodePoint(hex(4, start));
                case 'U' -> sb.appendCodePoint(hex(8, start));
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && pos < src.length() && src.charAt(pos) >= '0' && src.charAt(pos) <= '7'; k++) {
                            v = v * 8 + (src.charAt(pos++) - '0');
                        }
                        sb.append((char) v);
                    } else {
                        sb.append('\\').append(e); // Python keeps unknown escapes verbatim
                    }
                }
            }
        }
        emit(Type.STRING, sb.toString(), start);
    }

    private int hex(int n, int strStart) {
        if (pos + n > src.length()) {
            throw error("truncated escape in string", strStart);
        }
        try {
            int v = Integer.parseInt(src.substring(pos, pos + n), 16);
            pos += n;
            return v;
        } catch (NumberFormatException ex) {
            throw error("bad escape in string", strStart);
        }
    }

    private static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && Character.isWhitespace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(0, e);
    }

    private void emit(Type t, String v, int at) {
        int[] lc = lineCol(at);
        out.add(new Token(t, v, lc[0], lc[1]));
    }

    private TemplateException error(String msg, int at) {
        int[] lc = lineCol(at);
        return TemplateException.at("syntax error: " + msg, lc[0], lc[1]);
    }

    private int lastLcPos;
    private int lastLine = 1;
    private int lastLineStart;

    /** 1-based line/column; tokens arrive in source order, so this scans forward incrementally. */
    private int[] lineCol(int at) {
        if (at < lastLcPos) {
            lastLcPos = 0;
            lastLine = 1;
            lastLineStart = 0;
        }
        for (int i = lastLcPos; i < at && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                lastLine++;
                lastLineStart = i + 1;
            }
        }
        lastLcPos = Math.max(lastLcPos, Math.min(at, src.length()));
        return new int[] {lastLine, at - lastLineStart + 1};
    }
}
