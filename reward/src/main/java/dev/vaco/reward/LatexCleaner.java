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
    private static final Pattern STYLE = Pattern.compile(
            "\\\\(?:mathrm|mathbf|mathit|mathsf|mathbb|mathcal|boldsymbol|bm|operatorname|textit|textrm|mathnormal|rm|displaystyle|textstyle|limits|nolimits)(?![a-zA-Z])\\s*");
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
        s = collapseDoubledBackslashes(s);
        s = s.replace('\u2212', '-').replace("≤", "\\le ").replace("≥", "\\ge ").replace("≠", "\\ne ")
                .replace("×", "\\times ").replace("·", "\\cdot ").replace("π", "\\pi ").replace("∞", "\\infty ")
                .replace("√", "\\sqrt ").replace("²", "^2").replace("³", "^3").replace("∪", "\\cup ")
                .replace("€", " ").replace("£", " ").replace("¥", " ").replace("\\$", " ").replace("$", " ");
        s = SIZING.matcher(s).replaceAll("");
        s = STYLE.matcher(s).replaceAll("");
        s = DEGREES.matcher(s).replaceAll("");
        s = FRAC_ALIAS.matcher(s).replaceAll("\\\\frac");
        s = BINOM_ALIAS.matcher(s).replaceAll("\\\\binom");
        s = THOUSANDS_LATEX.matcher(s).replaceAll("$1");
        s = SCIENTIFIC.matcher(s).replaceAll("($1\\\\cdot 10^{$2})");
        Matcher m = THOUSANDS.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, m.group(1) + m.group(2).replace(",", ""));
        }
        m.appendTail(out);
        return out.toString().trim();
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
