package dev.vaco.reward;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Turns cleaned answer text into tokens; drops units and spacing, maps connectives to commas. */
final class LatexLexer {

    enum Type { NUM, ID, WORD, CMD, OP, TEXT, EOF }

    record Tok(Type type, String text) {
        boolean is(String op) {
            return (type == Type.OP || type == Type.CMD) && text.equals(op);
        }
    }

    static final Set<String> FUNCTIONS = Set.of("sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos",
            "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp", "sqrt", "asin", "acos", "atan");

    /** Words that carry no value: units and filler. Dropping them is what lets "15 cm^2" equal "15". */
    /** Compiled once: a \\text group is lexed at every parse of an answer with a unit. */
    private static final Pattern SPACES = Pattern.compile("\\s+");
    private static final Set<String> UNITS = Set.of("cm", "mm", "km", "meter", "meters", "metre", "metres",
            "inch", "inches", "feet", "foot", "ft", "mile", "miles", "yard", "yards", "hour", "hours", "hr", "hrs",
            "minute", "minutes", "mins", "second", "seconds", "day", "days", "week", "weeks", "month", "months",
            "year", "years", "unit", "units", "square", "sq", "cubic", "dollar", "dollars", "cent", "cents",
            "degree", "degrees", "deg", "kg", "gram", "grams", "liter", "liters", "litre", "litres", "ml", "mph",
            "kmh", "people", "students", "ways", "points", "apples", "cookies", "pounds", "lbs", "oz", "ounces",
            "gallons", "gallon", "quarts", "pints", "tons", "rd", "th", "st", "nd", "sqcm", "sqm", "am", "pm",
            "dots", "ldots", "cdots");
    /** Two-letter English words that would otherwise read as a product of two variables ("of 63" is not o*f*63). */
    private static final Set<String> SHORT_WORDS = Set.of("of", "to", "is", "by", "in", "at", "on", "it", "be", "as",
            "an", "so", "we", "if", "no", "do", "up", "my", "me", "he", "us", "or", "am", "go");
    private static final Set<String> PERCENT_WORDS = Set.of("pct", "percent", "percentage", "percents");
    private static final Set<String> CONNECTIVES = Set.of("and", "or", ",", ";", "und", "et");
    private static final Set<String> TEXT_COMMANDS = Set.of("text", "textbf", "mbox", "hbox", "textnormal", "textsf", "texttt", "textup");
    private static final Set<String> SKIP_COMMANDS = Set.of("quad", "qquad", "space", "enspace", "thinspace", "medspace",
            "hfill", "nonumber", "notag", "phantom", "hspace", "vspace", "mathstrut", "ensuremath");

    private final String s;
    private final Deadline deadline;
    private final List<Tok> out = new ArrayList<>();
    private int i;

    private LatexLexer(String s, Deadline deadline) {
        this.s = s;
        this.deadline = deadline;
    }

    static List<Tok> lex(String cleaned, Deadline deadline) {
        LatexLexer l = new LatexLexer(cleaned, deadline);
        l.run();
        return l.out;
    }

    private void run() {
        int n = s.length();
        while (i < n) {
            if ((i & 63) == 0) {
                deadline.check();
            }
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || c == '~') {
                i++;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int st = i;
                while (i < n && Character.isDigit(s.charAt(i))) {
                    i++;
                }
                if (i + 1 < n && s.charAt(i) == '.' && Character.isDigit(s.charAt(i + 1))) {
                    i++;
                    while (i < n && Character.isDigit(s.charAt(i))) {
                        i++;
                    }
                }
                emit(Type.NUM, s.substring(st, i));
            } else if (isAsciiLetter(c)) {
                int st = i;
                while (i < n && isAsciiLetter(s.charAt(i))) {
                    i++;
                }
                word(s.substring(st, i));
            } else if (c == '\\') {
                backslash();
            } else {
                operator(c);
            }
        }
        removeEmptyGroups();
        out.add(new Tok(Type.EOF, ""));
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private void word(String w) {
        String lw = w.toLowerCase(Locale.ROOT);
        if (w.length() == 1) {
            emit(Type.ID, w);
        } else if (PERCENT_WORDS.contains(lw)) {
            emit(Type.OP, "%");
        } else if (CONNECTIVES.contains(lw)) {
            emit(Type.OP, ",");
        } else if (UNITS.contains(lw)) {
            skipUnitPower();
        } else if (FUNCTIONS.contains(w) || w.equals("pi")) {
            emit(Type.CMD, w);
        } else if (w.length() == 2 && !SHORT_WORDS.contains(lw)) {
            emit(Type.ID, w.substring(0, 1));
            emit(Type.ID, w.substring(1));
        } else {
            emit(Type.WORD, w);
        }
    }

    /** "cm^2": the exponent belongs to the dropped unit, not to the number before it. */
    private void skipUnitPower() {
        int j = i;
        while (j < s.length() && s.charAt(j) == ' ') {
            j++;
        }
        if (j < s.length() && s.charAt(j) == '^') {
            j++;
            if (j < s.length() && s.charAt(j) == '{') {
                int close = s.indexOf('}', j);
                i = close < 0 ? s.length() : close + 1;
            } else {
                i = Math.min(s.length(), j + 1);
            }
        }
    }

    private void backslash() {
        int n = s.length();
        if (i + 1 >= n) {
            i++;
            return;
        }
        char d = s.charAt(i + 1);
        if (isAsciiLetter(d)) {
            int st = i + 1;
            i = st;
            while (i < n && isAsciiLetter(s.charAt(i))) {
                i++;
            }
            command(s.substring(st, i));
            return;
        }
        i += 2;
        switch (d) {
            case '\\' -> emit(Type.OP, "\\\\");
            case '{' -> emit(Type.OP, "\\{");
            case '}' -> emit(Type.OP, "\\}");
            case '%' -> emit(Type.OP, "%");
            case '|' -> emit(Type.OP, "|");
            default -> {
                // spacing (\, \! \; \: \ ) and escaped punctuation carry no meaning here
            }
        }
    }

    private void command(String name) {
        if (TEXT_COMMANDS.contains(name)) {
            String content = readBraced();
            if (content == null) {
                return;
            }
            String t = content.trim().toLowerCase(Locale.ROOT);
            String compact = SPACES.matcher(t).replaceAll("");
            String[] words = SPACES.split(t);
            if (t.isEmpty() || UNITS.contains(compact) || UNITS.contains(words[0]) && words.length <= 2) {
                skipUnitPower();
            } else if (CONNECTIVES.contains(t)) {
                emit(Type.OP, ",");
            } else if (PERCENT_WORDS.contains(t)) {
                emit(Type.OP, "%");
            } else {
                emit(Type.TEXT, content.trim());
            }
            return;
        }
        if (!SKIP_COMMANDS.contains(name) && (name.startsWith("qquad") || name.startsWith("quad"))) {
            // "\quadx_2" is "\quad x_2" written without a space
            String rest = name.substring(name.startsWith("qquad") ? 5 : 4);
            word(rest);
            return;
        }
        if (SKIP_COMMANDS.contains(name)) {
            if (name.equals("hspace") || name.equals("vspace") || name.equals("phantom")) {
                readBraced();
            }
            return;
        }
        switch (name) {
            case "le", "leq", "leqslant" -> emit(Type.OP, "<=");
            case "ge", "geq", "geqslant" -> emit(Type.OP, ">=");
            case "ne", "neq" -> emit(Type.OP, "!=");
            case "lt" -> emit(Type.OP, "<");
            case "gt" -> emit(Type.OP, ">");
            case "cdot", "times", "ast" -> emit(Type.OP, "*");
            case "div" -> emit(Type.OP, "/");
            case "lbrace" -> emit(Type.OP, "\\{");
            case "rbrace" -> emit(Type.OP, "\\}");
            case "langle" -> emit(Type.OP, "(");
            case "rangle" -> emit(Type.OP, ")");
            case "vert", "lvert", "rvert", "mid" -> emit(Type.OP, "|");
            case "colon" -> emit(Type.OP, ":");
            case "to", "rightarrow", "Rightarrow", "implies" -> emit(Type.WORD, name);
            case "percent" -> emit(Type.OP, "%");
            case "dollar", "euro", "pounds" -> { }
            default -> emit(Type.CMD, name);
        }
    }

    /** Content of the next {...} group (balanced, iterative), or null when there is none. */
    private String readBraced() {
        int n = s.length();
        int j = i;
        while (j < n && s.charAt(j) == ' ') {
            j++;
        }
        if (j >= n || s.charAt(j) != '{') {
            return null;
        }
        int depth = 0;
        for (int k = j; k < n; k++) {
            char c = s.charAt(k);
            if (c == '\\') {
                k++;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                i = k + 1;
                return s.substring(j + 1, k);
            }
        }
        throw new ParseException("unclosed group after \\text");
    }

    private void operator(char c) {
        int n = s.length();
        char d = i + 1 < n ? s.charAt(i + 1) : '\0';
        String two = "" + c + d;
        switch (two) {
            case "<=", ">=", "!=", "=>", "=<" -> {
                emit(Type.OP, two.equals("=>") ? ">=" : two.equals("=<") ? "<=" : two);
                i += 2;
                return;
            }
            case "==" -> {
                emit(Type.OP, "=");
                i += 2;
                return;
            }
            default -> {
            }
        }
        i++;
        switch (c) {
            case '+', '-', '*', '/', '^', '_', '(', ')', '[', ']', '{', '}', ',', ';', ':', '=', '<', '>', '!', '|', '&', '%', '\'' ->
                    emit(Type.OP, String.valueOf(c));
            case '.', '?', '"', '`' -> {
                // trailing sentence punctuation
            }
            default -> throw new ParseException("unexpected character U+" + Integer.toHexString(c));
        }
    }

    private void emit(Type t, String text) {
        if (t == Type.OP && text.equals(",") && !out.isEmpty() && out.get(out.size() - 1).is(",")) {
            // "1, 2, and 3": the connective after a comma adds no item
            return;
        }
        out.add(new Tok(t, text));
    }

    private void removeEmptyGroups() {
        for (int k = out.size() - 2; k >= 0; k--) {
            if (k + 1 < out.size() && out.get(k).is("{") && out.get(k + 1).is("}")) {
                out.remove(k + 1);
                out.remove(k);
            }
        }
    }
}
