package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand scanners of {@link MathSpans} against the regexes they replace (the oracles), at every position. */
class MathSpansTest {
    private static final Pattern JOIN = Pattern.compile("\\s*(?:,?and|,?or|,)\\s*");
    private static final Pattern PERCENT = Pattern.compile("\\\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct");
    private static final String[] PIECES = {" ", "  ", "\t", "\n", "\u000B", "\f", "\r", "\u00A0", "and", "or", ",", ",and",
            ",or", "an", "a", "o", "d", "r", "%", "\\%", "\\", "percent", "Percent", "percentage", "pct", "Pct", "p", "P",
            "ercent", "ct", "$", "x"};

    @Test
    void joinAndPercentScannersMatchTheirRegexes() {
        SplittableRandom rnd = new SplittableRandom(7L);
        int joins = 0;
        int percents = 0;
        for (int n = 0; n < 20_000; n++) {
            StringBuilder b = new StringBuilder();
            for (int k = rnd.nextInt(8); k >= 0; k--) {
                b.append(PIECES[rnd.nextInt(PIECES.length)]);
            }
            String t = b.toString();
            for (int i = 0; i <= t.length(); i++) {
                int join = lookingAt(JOIN, t, i);
                int percent = lookingAt(PERCENT, t, i);
                assertThat(MathSpans.joinEnd(t, i)).as("join at %d of '%s'", i, t).isEqualTo(join);
                assertThat(MathSpans.percentEnd(t, i)).as("percent at %d of '%s'", i, t).isEqualTo(percent);
                joins += join >= 0 ? 1 : 0;
                percents += percent >= 0 ? 1 : 0;
            }
        }
        assertThat(joins).isGreaterThan(10_000);
        assertThat(percents).isGreaterThan(10_000);
    }

    @Test
    void boxGroupsAreFoundWithoutScanningPastTheLastBox() {
        SplittableRandom rnd = new SplittableRandom(11L);
        int found = 0;
        for (int n = 0; n < 50_000; n++) {
            String t = n % 2 == 0 ? TextSoup.of(rnd, 16) : TextSoup.withBox(rnd);
            // the naive scan: a group may start anywhere
            java.util.List<MathSpans.Group> naive = new java.util.ArrayList<>();
            for (int i = 0; i < t.length(); ) {
                MathSpans.Group g = MathSpans.at(t, i, true);
                if (g != null) {
                    naive.add(g);
                }
                i = g == null ? i + 1 : Math.max(g.end(), i + 1);
            }
            assertThat(MathSpans.all(t, true)).as(t).isEqualTo(naive);
            for (MathSpans.Group g : naive) {
                for (String c : g.contents()) {
                    int b = c.indexOf("\\boxed{");
                    assertThat(b >= 0 && c.indexOf('}', b + 8) >= 0).as("'%s' in '%s' holds a box", c, t).isTrue();
                }
            }
            found += naive.size();
        }
        assertThat(found).isGreaterThan(10_000);
    }

    private static int lookingAt(Pattern p, String t, int i) {
        Matcher m = p.matcher(t).region(i, t.length());
        return m.lookingAt() ? m.end() : -1;
    }
}
