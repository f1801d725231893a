package dev.vaco.datasets;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * GSM8K layout ({@code openai/gsm8k}): {@code question}, and {@code answer} holding the worked solution
 * followed by a line {@code #### GOLD}.
 *
 * <p>Convention: the gold is the text after the last {@code ####}, stripped, with thousands separators
 * removed when it is a comma-grouped number ({@code 1,450,000} becomes {@code 1450000}), so that golds
 * compare as plain numbers; any other text is kept verbatim. The solution is the text before
 * {@code ####}, stripped; GSM8K's calculator annotations {@code <<16-3-4=9>>} are kept verbatim.
 */
public final class Gsm8k implements RecordAdapter {

    public static final Gsm8k INSTANCE = new Gsm8k();

    private static final Pattern GROUPED = Pattern.compile("[-+]?\\d{1,3}(,\\d{3})+(\\.\\d+)?");

    private Gsm8k() {
    }

    @Override
    public Problem adapt(RawRecord r, String source) {
        String question = r.requireString("question");
        String answer = r.requireString("answer");
        int mark = answer.lastIndexOf("####");
        if (mark < 0) {
            throw r.error("answer", "expected a final line '#### <gold>', found no '####'");
        }
        String gold = normaliseGold(answer.substring(mark + 4));
        if (gold.isEmpty()) {
            throw r.error("answer", "expected a gold answer after '####', found nothing");
        }
        String solution = answer.substring(0, mark).strip();
        return new Problem(source + "/" + r.index(), question, gold, solution.isEmpty() ? null : solution, source,
                null, null);
    }

    @Override
    public Set<String> columns() {
        return Set.of("question", "answer");
    }

    /** Strips and removes thousands separators from comma-grouped numbers; other text is kept. */
    public static String normaliseGold(String raw) {
        String s = raw.strip();
        return GROUPED.matcher(s).matches() ? s.replace(",", "") : s;
    }
}
