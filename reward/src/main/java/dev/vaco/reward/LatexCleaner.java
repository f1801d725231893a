package dev.vaco.reward;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * String-level clean-up run before tokenising: styling, spacing, degrees, currency, thousands
 * separators. Every pattern here is linear (no nested quantifiers) so a 1 MB answer stays cheap.
 */
final class LatexCleaner {
    private LatexCleaner() {
    }

    private static final Pattern SIZING = Pattern.compile("\\\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\\.?");
    /** Styling commands, dropped; full names, so the skip test knows "\\text{ cm}" names none of them. */
    private static final String[] STYLE_NAMES = {"mathrm", "mathbf", "mathit", "mathsf", "mathbb", "mathcal", "boldsymbol",
            "bm", "operatorname", "textit", "textrm", "mathnormal", "rm", "displaystyle", "textstyle", "limits", "nolimits"};
    private static final Pattern STYLE = Pattern.compile("\\\\(?:" + String.join("|", STYLE_NAMES) + ")(?![a-zA-Z])\\s*");
    private static final Pattern DEGREES = Pattern.compile("\\^\\s*\\{?\\s*\\\\circ\\s*\\}?|\\\\circ|°|\\\\degree(?![a-zA-Z])|\\^\\s*\\{\\s*\\\\text\\{\\s*o\\s*\\}\\s*\\}");
    /** "12{,}000", "12,\\!000" and "12\\!000" are one number; "12\\,000" is not (Math-Verify reads a thin space as a product). */
    private static final Pattern THOUSANDS_LATEX = Pattern.compile("(\\d)\\s*(?:\\{\\s*,\\s*\\}\\s*|,\\\\!\\s*|\\\\!)(?=\\d{3})");
    /** "1,450" is one number, but "(12,102)" and "[-36,104]" are pairs: a bracket next to the digits vetoes the join. */
    private static final Pattern THOUSANDS = Pattern.compile("(?<![\\d.,(\\[])(\\d{1,3})((?:,\\d{3})+)(?![\\d,)\\]])");
    /** Plain-text scientific notation, "1.5e-3": the e is an exponent marker here, not Euler's number. */
    private static final Pattern SCIENTIFIC = Pattern.compile("(?<![A-Za-z\\\\\\d.])(\\d+(?:\\.\\d+)?)[eE]([+-]?\\d{1,6})(?![\\d.A-Za-z])");
    private static final Pattern FRAC_ALIAS = Pattern.compile("\\\\[dtc]frac(?![a-zA-Z])");
    private static final Pattern BINOM_ALIAS = Pattern.compile("\\\\[dt]binom(?![a-zA-Z])");

    static String clean(String s) {
        return clean(s, true);
    }

    /**
     * @param skipAbsent skip each rewrite whose pattern needs a character or command the text lacks, tested on the
     *                   text as the rewrites before it left it (so the result is the same); false runs every rewrite,
     *                   the test's oracle. It runs four times per verdict (both answers' compact forms, both
     *                   parses), and the eight regex searches on every call were a third of the verifier's samples
     *                   in a profile of VerifierBench; most answers hold no backslash and no comma.
     */
    static String clean(String s, boolean skipAbsent) {
        s = collapseDoubledBackslashes(s);
        if (!skipAbsent || !isAscii(s)) {
            s = s.replace('\u2212', '-').replace("≤", "\\le ").replace("≥", "\\ge ").replace("≠", "\\ne ")
                    .replace("×", "\\times ").replace("·", "\\cdot ").replace("π", "\\pi ").replace("∞", "\\infty ")
                    .replace("√", "\\sqrt ").replace("²", "^2").replace("³", "^3").replace("∪", "\\cup ")
                    .replace("€", " ").replace("£", " ").replace("¥", " ");
        }
        if (!skipAbsent || s.indexOf('$') >= 0) {
            s = s.replace("\\$", " ").replace("$", " ");
        }
        Commands cmds = new Commands();
        if (!skipAbsent || cmds.in(s, SIZING_CMDS)) {
            s = SIZING.matcher(s).replaceAll("");
        }
        if (!skipAbsent || cmds.in(s, STYLE_CMDS)) {
            s = STYLE.matcher(s).replaceAll("");
        }
        if (!skipAbsent || s.indexOf('°') >= 0 || cmds.in(s, DEGREE_CMDS) || s.indexOf('^') >= 0 && cmds.in(s, TEXT_CMDS)) {
            s = DEGREES.matcher(s).replaceAll("");
        }
        if (!skipAbsent || cmds.in(s, FRAC_CMDS)) {
            s = FRAC_ALIAS.matcher(s).replaceAll("\\\\frac");
        }
        if (!skipAbsent || cmds.in(s, BINOM_CMDS)) {
            s = BINOM_ALIAS.matcher(s).replaceAll("\\\\binom");
        }
        if (!skipAbsent || s.contains("\\!") || braceComma(s)) {
            s = THOUSANDS_LATEX.matcher(s).replaceAll("$1");
        }
        if (!skipAbsent || digitThenE(s)) {
            s = SCIENTIFIC.matcher(s).replaceAll("($1\\\\cdot 10^{$2})");
        }
        if (skipAbsent && s.indexOf(',') < 0) {
            return s.trim();
        }
        Matcher m = THOUSANDS.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, m.group(1) + m.group(2).replace(",", ""));
        }
        m.appendTail(out);
        return out.toString().trim();
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /** The commands each rewrite names (a prefix of each, or its full name), bit k for row k. */
    private static final String[][] COMMANDS = {
            {"left", "right", "big", "Big"}, STYLE_NAMES, {"circ", "degree"}, {"text"}, {"dfrac", "tfrac", "cfrac"},
            {"dbinom", "tbinom"}};
    private static final int SIZING_CMDS = 1;
    private static final int STYLE_CMDS = 2;
    /** DEGREES' commands; its ^{\\text{o}} needs a '^' besides {@link #TEXT_CMDS}. */
    private static final int DEGREE_CMDS = 4;
    private static final int TEXT_CMDS = 8;
    private static final int FRAC_CMDS = 16;
    private static final int BINOM_CMDS = 32;

    /**
     * The commands of the text last asked about. A rewrite that matched nothing returns the same string, so the scan
     * is repeated only after one changed the text (which can make a command: "\\" + "\\left." + "dfrac").
     */
    private static final class Commands {
        private String of;
        private int bits;

        boolean in(String s, int mask) {
            if (s != of) {
                of = s;
                bits = commandsIn(s);
            }
            return (bits & mask) != 0;
        }
    }

    private static int commandsIn(String s) {
        int found = 0;
        for (int i = s.indexOf('\\'); i >= 0 && i + 1 < s.length(); i = s.indexOf('\\', i + 1)) {
            char first = s.charAt(i + 1);
            for (int k = 0; k < COMMANDS.length; k++) {
                for (String n : COMMANDS[k]) {
                    if (n.charAt(0) == first && s.startsWith(n, i + 1)) {
                        found |= 1 << k;
                        break;
                    }
                }
            }
        }
        return found;
    }

    /** THOUSANDS_LATEX's "{,}" needs a '{' then, after regex spaces, a ','; "\\frac{1}{2}, 3" has none. */
    private static boolean braceComma(String s) {
        for (int i = s.indexOf('{'); i >= 0; i = s.indexOf('{', i + 1)) {
            int k = i + 1;
            while (k < s.length() && MathSpans.isRegexSpace(s.charAt(k))) {
                k++;
            }
            if (k < s.length() && s.charAt(k) == ',') {
                return true;
            }
        }
        return false;
    }

    /** SCIENTIFIC needs a digit directly before its e; the e's are found by indexOf, most texts have few. */
    private static boolean digitThenE(String s) {
        for (char e : new char[] {'e', 'E'}) {
            for (int i = s.indexOf(e, 1); i > 0; i = s.indexOf(e, i + 1)) {
                if (Character.isDigit(s.charAt(i - 1))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Raw-string Python tests (and some JSON dumps) double the backslash of commands: "\\frac".
     * A doubled backslash directly followed by a letter is read as one; "\\\\" before "\end" stays a row break
     * because the scan is left to right.
     */
    static String collapseDoubledBackslashes(String s) {
        if (s.indexOf("\\\\") < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < n && s.charAt(i + 1) == '\\') {
                if (i + 2 < n && Character.isLetter(s.charAt(i + 2))) {
                    b.append('\\');
                    i += 1;
                } else {
                    b.append("\\\\");
                    i += 1;
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
