package dev.vaco.reward;

import java.util.SplittableRandom;

/**
 * Seeded model-output-like text for the tests that hold a fast path to its full version: pieces that trigger each
 * rewrite, span, anchor and box rule, so that random concatenations put them next to each other in every order.
 * Public for the bench module's {@code VerdictDump}, which compares two builds on such texts.
 */
public final class TextSoup {
    private TextSoup() {
    }

    static final String[] PIECES = {
            "1", "2", "0", "7", "12", "-", "+", "*", "/", "^", "_", "(", ")", "[", "]", "{", "}", "\\{", "\\}", ",", ";", ":",
            "=", "<", ">", "\\le", "\\ne", "!", "%", "\\%", "|", "&", "\\\\", "x", "e", "E", "\\pi", "\\frac", "\\dfrac",
            "\\tfrac", "\\cfrac", "\\sqrt", "\\sqrt[3]", "\\cup", "\\text{and}", "\\text{cm}", "\\text{ cm}", "\\text{Evelyn}",
            "\\text{percent}", "\\mathrm{", "\\mathbf{", "\\displaystyle", "\\limits", "\\operatorname{", "\\rm ", "\\bm",
            "\\nolimits", "\\textstyle", "\\textit{", "\\mathnormal", "\\boldsymbol{", "\\Big(", "\\bigg)",
            "\\boxed{", "\\boxed", "\\boxed ", "\\fbox{", "$", "$$", "\\(", "\\)", "\\[", "\\]", "\\begin{pmatrix}",
            "\\end{pmatrix}", "\\left(", "\\right)", "\\bigl(", "\\Bigr]", "\\biggl", "\\cdot", "\\times", "0.5", "1,000",
            "14{,}916", "12,\\!000", "3\\!000", "{ , }", ".", " ", "  ", "\t", "\n", "\u00A0", "The answer is ",
            "the final answer is ", "Final Answer: ", "final answer", "I hope", " I hope it is correct.", "#### ", "answer: ",
            "\\binom", "\\dbinom", "\\tbinom", "'", "^\\circ", "^{\\circ}", "\\circ", "°", "\\degree", "^{\\text{o}}",
            "\uFFFD", "a_{37}", "3e5", "1.5E-3", "2e", "\\!", "≤", "≥", "≠", "π", "×", "·", "√", "²", "³", "∞", "∪", "€",
            "£", "¥", "\\$", "\u2212", " and ", " or ", ", ", ",and", ",or", "and", "or", " percent", " pct", "Percent",
            "percentage", "Pct", "$\\boxed{", "}$", "}$.", "}.", " [", "] ", " [x] ", "\\frac{1}{2}", "-\\frac{3}{4}", "$5$",
            "\\(3\\)", "m", " apples", "\\mbox{ m}", "x = ", "so ", "\\\\frac", "\\\\boxed{", "\\\\left", "\\\\",
            "the final answer is 7. I hope", "The final answer is $4$, ", "final answer: $4$ and ", " [$", "1] ", "x] ", "dfrac", "left.", "circ"};

    /** Up to {@code maxPieces} pieces, at least one. */
    public static String of(SplittableRandom rnd, int maxPieces) {
        int n = 1 + rnd.nextInt(maxPieces);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(PIECES[rnd.nextInt(PIECES.length)]);
        }
        return b.toString();
    }

    /** Inline dollars most often, as models write them. */
    private static final String[] OPEN = {"$", "$", "$", "$", "$$", "\\(", "\\[", " [", "", ""};
    private static final String[] CLOSE = {"$", "$", "$", "$", "$$", "\\)", "\\]", "] ", "", ""};
    private static final String[] SHORT = {"", "", "", ".", " ", "$", "$.", ".$", " I hope", "\n", "}", "2", " cm", "%",
            " and ", ", ", "\\)", "]", "\\]", " or $\\boxed{3}$"};

    /**
     * A model's closing line: soup, then a box (most often in a math span, sometimes two boxes), then a short tail;
     * the shapes where the box, the spans around it and the text after it decide the answer.
     */
    public static String withBox(SplittableRandom rnd) {
        int o = rnd.nextInt(OPEN.length);
        StringBuilder b = new StringBuilder(rnd.nextInt(4) == 0 ? "" : of(rnd, 6));
        b.append(OPEN[o]).append(rnd.nextInt(3) == 0 ? of(rnd, 2) : "");
        b.append(rnd.nextInt(4) == 0 ? "\\fbox{" : "\\boxed{").append(of(rnd, 3)).append('}');
        if (rnd.nextInt(4) == 0) {
            b.append(SHORT[rnd.nextInt(SHORT.length)]).append("\\boxed{").append(of(rnd, 2)).append('}');
        }
        b.append(rnd.nextInt(3) == 0 ? of(rnd, 2) : "");
        b.append(CLOSE[rnd.nextInt(3) == 0 ? rnd.nextInt(CLOSE.length) : o]);
        b.append(SHORT[rnd.nextInt(SHORT.length)]).append(rnd.nextInt(4) == 0 ? of(rnd, 3) : "");
        return b.toString();
    }
}
