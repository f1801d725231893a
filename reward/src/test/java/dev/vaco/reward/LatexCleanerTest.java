package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The cleaner skips a rewrite whose pattern cannot match; the version that runs every rewrite is the oracle. */
class LatexCleanerTest {

    @Test
    void skippingRewritesThatCannotMatchChangesNoResult() {
        SplittableRandom rnd = new SplittableRandom(20261207L);
        int changed = 0;
        for (int i = 0; i < 100_000; i++) {
            String s = TextSoup.of(rnd, 12);
            String full = LatexCleaner.clean(s, false);
            assertThat(LatexCleaner.clean(s, true)).as(s).isEqualTo(full);
            changed += full.equals(s.trim()) ? 0 : 1;
        }
        // the soup exercises the rewrites: most inputs are changed by at least one of them
        assertThat(changed).isGreaterThan(50_000);
    }

    @Test
    void everyRewriteStillRunsWhereItsPatternMatches() {
        assertThat(LatexCleaner.clean("\\left(1\\right)")).isEqualTo("(1)");
        assertThat(LatexCleaner.clean("\\mathrm{cm} \\displaystyle x")).isEqualTo("{cm} x");
        assertThat(LatexCleaner.clean("90^\\circ")).isEqualTo("90");
        assertThat(LatexCleaner.clean("90°")).isEqualTo("90");
        assertThat(LatexCleaner.clean("\\dfrac12 + \\tbinom{4}{2}")).isEqualTo("\\frac12 + \\binom{4}{2}");
        assertThat(LatexCleaner.clean("12{,}000 and 3\\!000")).isEqualTo("12000 and 3000");
        assertThat(LatexCleaner.clean("1.5e3")).isEqualTo("(1.5\\cdot 10^{3})");
        assertThat(LatexCleaner.clean("1,450")).isEqualTo("1450");
        assertThat(LatexCleaner.clean("x ≤ π")).isEqualTo("x \\le  \\pi");
        assertThat(LatexCleaner.clean("$5$ or \\$5")).isEqualTo("5  or  5");
        // a rewrite that makes a command out of what it removes: "\\" + "dfrac" once "\mathrm " or "\left." goes
        for (String s : new String[] {"\\\\\\mathrm dfrac12", "\\\\\\left.dfrac12", "\\\\\\bigl dbinom42", "\\\\\\rm circ"}) {
            assertThat(LatexCleaner.clean(s, true)).as(s).isEqualTo(LatexCleaner.clean(s, false)).isNotEqualTo(s);
        }
    }
}
