package dev.vaco.reward;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Math-Verify's unit removal for answers taken from LaTeX: a trailing {@code \text{..}} or {@code \mbox{..}} (with an
 * optional power: {@code \text{ cm}^2}) goes, then, twice, a trailing unit word after a digit, a brace or a space
 * ({@code 234 m}, {@code 5 apples}). Only what ends the answer goes, and never all of it: {@code \text{Even}} stays.
 * The word list is upstream's, so single letters that are units there ({@code m}, {@code s}, {@code t}, {@code h}) go
 * too: {@code 3t} is 3 for Math-Verify, and here.
 */
final class UnitSuffix {
    private UnitSuffix() {
    }

    private static final Pattern TRAILING_TEXT = Pattern.compile("(\\\\(?:text|mbox)\\{.*?\\})(\\^\\d|\\{\\^\\d\\})?$");

    private static final List<String> WORDS = List.of(
            "integerpoint", "feet", "sue", "digit", "pound", "meal", "edge", "student", "children ticket", "multiple",
            "east", "degree", "mph", "kmph", "ft", "m square", " m east", "sq m", "deg", "mile", "monkey", "prime",
            "ratio", "profit of rs", "rd", "o", "gm", "lb", "tile", "per", "dm", "lt", "gain", "ab", "way", "west",
            "t", "h", "no change", "men", "soldier", "pie", "bc", "excess", "st", "inches", "noon", "cent", "by", "gal",
            "kmh", "c", "acre", "rise", "th", "sq", "mark", "l", "toy", "coin", "gallon", "profit", "minw", "yr",
            "women", "am", "pm", "hr", "cu cm", "square", "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm",
            "number", "day", "hour", "minute", "min", "second", "man", "woman", "sec", "cube", "mt", "sq inch", "mp",
            "hectare", "more", "unit", "cm 2", "rs", "kg", "g", "month", "km", "m", "cm", "mm", "apple", "liter",
            "loss", "yard", "pure", "year", "increase", "decrease", "d", "less", "Surface", "litre", "pi sq m",
            "metre", "meter", "inch");
    /** The last word of every unit ("sq m" ends in "m"). */
    private static final java.util.Set<String> LAST_WORDS = WORDS.stream()
            .map(w -> w.trim().substring(w.trim().lastIndexOf(' ') + 1)).collect(java.util.stream.Collectors.toUnmodifiableSet());
    private static final Pattern TRAILING_UNIT = Pattern.compile(
            "(\\d|\\}|\\s)\\s*(?:" + String.join("|", WORDS) + ")(?:s|es)?\\s*$");

    private static final Pattern TEXT_ALIASES = Pattern.compile("\\\\(?:math(?:rm|it|bf)|text(?:normal|bf|it|rm))(?![a-zA-Z])");
    /** A percent word written inside \\text without spaces is the sign; with a space it is dropped like a unit. */
    private static final Pattern PERCENT_TEXT = Pattern.compile("\\\\text\\{(?:percentage|percent|pct)\\}");

    private static final Pattern TEXT_GROUP = Pattern.compile("\\\\(?:text|mbox)\\{([A-Za-z ]+)\\}");

    /**
     * A word in \\text after a quantity that survives {@link #strip} (it does not end the answer, or a space follows
     * it inside the span: {@code \\( 6 \\text{ m} \\)}) is, for Math-Verify, a factor named by the word; the lexer
     * would drop it, so it becomes the symbol {@code u_{m}}: 6 m is then neither 6 nor 6 cm, and equals 6 m.
     */
    static String keepUnits(String latex) {
        if (!latex.contains("\\text") && !latex.contains("\\mbox")) {
            return latex;
        }
        Matcher m = TEXT_GROUP.matcher(latex);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String word = m.group(1).trim();
            String before = latex.substring(0, m.start()).stripTrailing();
            boolean afterQuantity = !before.isEmpty() && (Character.isDigit(before.charAt(before.length() - 1))
                    || before.endsWith("}") || before.endsWith(")"));
            boolean connective = word.equalsIgnoreCase("and") || word.equalsIgnoreCase("or");
            String repl = !word.isEmpty() && afterQuantity && !connective ? " \\cdot u_{" + word.replace(" ", "") + "}" : m.group();
            m.appendReplacement(out, Matcher.quoteReplacement(repl));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** @param latex the span as written, surrounding spaces included: upstream's trailing \\text match needs its end */
    static String strip(String latex) {
        String t = latex;
        int last = t.length() - 1;
        while (last >= 0 && Character.isWhitespace(t.charAt(last))) {
            last--;
        }
        if (t.indexOf('\\') < 0 && (last < 0 || !Character.isLetter(t.charAt(last)))) {
            // no \\text to cut and no unit word at the end: only the trim upstream does anyway
            return t.trim();
        }
        if (t.contains("\\math") || t.contains("\\text")) {
            // both patterns name one of these commands; a box of plain LaTeX ("\\frac{1}{2}") skips the two searches
            t = TEXT_ALIASES.matcher(t).replaceAll("\\\\text");
            t = PERCENT_TEXT.matcher(t).replaceAll("\\\\%");
        }
        String cut = t.contains("\\text{") || t.contains("\\mbox{") ? TRAILING_TEXT.matcher(t).replaceFirst("").trim() : t.trim();
        if (!cut.isEmpty() && !cut.equals(t)) {
            t = cut;
        }
        for (int pass = 0; pass < 2; pass++) {
            String u = withoutTrailingUnit(t);
            if (!u.isEmpty() && !u.equals(t)) {
                t = u;
            }
        }
        return t;
    }

    /** Only the end can match: the regex runs on the last {@link #WINDOW} characters, and only after a letter. */
    private static String withoutTrailingUnit(String t) {
        int last = t.length() - 1;
        while (last >= 0 && Character.isWhitespace(t.charAt(last))) {
            last--;
        }
        if (last < 0 || !Character.isLetter(t.charAt(last))) {
            return t;
        }
        int from = last;
        while (from > 0 && Character.isLetter(t.charAt(from - 1))) {
            from--;
        }
        String word = t.substring(from, last + 1);
        if (!LAST_WORDS.contains(word) && !(word.endsWith("s") && LAST_WORDS.contains(word.substring(0, word.length() - 1)))
                && !(word.endsWith("es") && LAST_WORDS.contains(word.substring(0, word.length() - 2)))) {
            // no unit ends with this word: skip the 140-way alternation (most answers end in x or \\pi)
            return t;
        }
        Matcher m = TRAILING_UNIT.matcher(t).region(Math.max(0, t.length() - WINDOW), t.length());
        return m.find() ? t.substring(0, m.start()) + m.group(1) : t;
    }

    /** Longer than the longest unit with its spaces ("children tickets  "), plus the character before it. */
    private static final int WINDOW = 48;
}
