package dev.vaco.reward;

import dev.vaco.reward.AnswerExtractor.Extracted;
import dev.vaco.reward.Verdict.Status;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Thread-safe entry point: {@code new Verifier(config).verify(goldText, modelOutput)}.
 *
 * <p>Each comparison runs on a worker thread under a hard wall-clock limit; the same {@link Deadline} is polled by
 * the parser and evaluator so a timed-out comparison really stops instead of burning a core in the background.
 * Whatever goes wrong inside becomes a verdict.
 */
public final class Verifier implements AutoCloseable {
    public static final String VERSION = "vaco-reward-verifier/1.0";

    private static final Pattern TEXTUAL_DROPS = Pattern.compile("[\\s{}()$.\\\\]");
    private static final Pattern TEXT_CMD = Pattern.compile("\\\\(?:text|textbf|mbox|mathrm)\\s*\\{([^{}]*)\\}");

    private final VerifierConfig config;
    private final ExecutorService pool;

    public Verifier(VerifierConfig config) {
        this.config = config;
        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "vaco-verify-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = Executors.newCachedThreadPool(tf);
    }

    public VerifierConfig config() {
        return config;
    }

    /** Extracts the answer from both texts (gold with the lenient rules, prediction per config) and compares. */
    public Verdict verify(String goldText, String prediction) {
        return run(d -> {
            Optional<Extracted> gold = extract(goldText, false, d);
            if (gold.isEmpty()) {
                return new Verdict(Status.UNPARSEABLE, null, null, VERSION, "no answer found in the gold text");
            }
            return comparePrediction(gold.get(), prediction, d);
        });
    }

    /** The gold answer is already extracted (e.g. MATH's answer field, GSM8K's text after ####). */
    public Verdict verifyGold(String goldAnswer, String prediction) {
        return run(d -> comparePrediction(new Extracted(goldAnswer, null, null), prediction, d));
    }

    /** GSM8K row: the gold is the text after "####" in the dataset's answer field. */
    public Verdict verifyGsm8k(String answerField, String prediction) {
        Optional<String> gold = AnswerExtractor.gsm8kGold(answerField == null ? "" : answerField);
        return gold.isPresent() ? verifyGold(gold.get(), prediction)
                : new Verdict(Status.UNPARSEABLE, null, null, VERSION, "GSM8K answer field has no '####'");
    }

    /** MATH row: the answer field when present, else the last \boxed{} of the reference solution. */
    public Verdict verifyMath(String answerField, String solution, String prediction) {
        if (answerField != null && !answerField.isBlank()) {
            return verifyGold(answerField, prediction);
        }
        Optional<String> gold = AnswerExtractor.lastBoxed(solution == null ? "" : solution);
        return gold.isPresent() ? verifyGold(gold.get(), prediction)
                : new Verdict(Status.UNPARSEABLE, null, null, VERSION, "MATH solution has no \\boxed{}");
    }

    /** Both sides are already-extracted answers. */
    public Verdict verifyAnswers(String goldAnswer, String predAnswer) {
        return run(d -> compare(goldAnswer, predAnswer, d, null));
    }

    /** Answer extraction only, under the same deadline. */
    public Optional<String> extractAnswer(String text) {
        try {
            return extract(text, config.strict(), new ParseCache(Deadline.after(config.timeout()))).map(Extracted::answer);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private Verdict comparePrediction(Extracted gold, String prediction, ParseCache d) {
        String goldAnswer = gold.answer();
        if (goldAnswer == null || goldAnswer.isBlank()) {
            return new Verdict(Status.UNPARSEABLE, goldAnswer, null, VERSION, "gold answer is empty");
        }
        Optional<Extracted> pred = extract(prediction, config.strict(), d);
        if (pred.isEmpty() || pred.get().answer().isBlank()) {
            return new Verdict(Status.NO_ANSWER, goldAnswer, null, VERSION,
                    config.strict() ? "no \\boxed{} answer (strict mode)" : "no answer found");
        }
        Verdict v = compare(goldAnswer, pred.get().answer(), d, pred.get().method());
        if (!v.correct() && v.status() != Status.TIMEOUT && sameText(gold.text(), pred.get().text())) {
            // Math-Verify also compares the two extracted texts: "12%" against a gold "12" is the same text "12"
            return new Verdict(Status.CORRECT, v.gold(), v.pred(), VERSION, v.detail() + ", same text");
        }
        return v;
    }

    private static boolean sameText(String a, String b) {
        return a != null && b != null && !a.isBlank() && a.strip().equals(b.strip());
    }

    private Optional<Extracted> extract(String text, boolean strict, ParseCache d) {
        return AnswerExtractor.extract(text, strict, config.plainNumbers(), config.tailChars(), s -> parsesSafely(s, d));
    }

    private boolean parsesSafely(String s, ParseCache d) {
        try {
            d.parse(s, config.percent() == PercentConvention.FRACTION);
            return true;
        } catch (ParseException | ArithmeticException e) {
            return false;
        } catch (DeadlineExceededException e) {
            throw e;
        } catch (LimitExceededException e) {
            // too big to evaluate is still an answer; the comparison decides what it is worth
            return true;
        }
    }

    private Verdict compare(String gold, String pred, ParseCache d, AnswerExtractor.Method method) {
        if (gold == null || gold.isBlank()) {
            return new Verdict(Status.UNPARSEABLE, gold, pred, VERSION, "gold answer is empty");
        }
        if (pred == null || pred.isBlank()) {
            return new Verdict(Status.NO_ANSWER, gold, pred, VERSION, "prediction is empty");
        }
        String detail = method == null ? null : "extracted by " + method.name().toLowerCase(Locale.ROOT);
        if (compact(gold).equals(compact(pred))) {
            return new Verdict(Status.CORRECT, gold, pred, VERSION, detail);
        }
        boolean fraction = config.percent() == PercentConvention.FRACTION;
        Status s = compareParsed(gold, pred, fraction, d);
        if (s != Status.CORRECT && config.percent() == PercentConvention.EITHER && (hasPercent(gold) || hasPercent(pred))) {
            Status other = compareParsed(gold, pred, true, d);
            if (other == Status.CORRECT) {
                s = other;
            }
        }
        return new Verdict(s, gold, pred, VERSION, detail);
    }

    private Status compareParsed(String gold, String pred, boolean percentAsFraction, ParseCache cache) {
        Expr g;
        Expr p;
        try {
            g = cache.parse(gold, percentAsFraction);
            p = cache.parse(pred, percentAsFraction);
        } catch (DeadlineExceededException e) {
            throw e;
        } catch (ParseException | LimitExceededException | ArithmeticException e) {
            return textual(gold).equals(textual(pred)) ? Status.CORRECT : Status.UNPARSEABLE;
        }
        try {
            return new Equivalence(config, cache.deadline()).equivalent(g, p) ? Status.CORRECT : Status.WRONG;
        } catch (DeadlineExceededException e) {
            throw e;
        } catch (LimitExceededException | ArithmeticException e) {
            return Status.UNPARSEABLE;
        }
    }

    private static boolean hasPercent(String s) {
        return s.contains("%") || s.toLowerCase(Locale.ROOT).contains("pct") || s.toLowerCase(Locale.ROOT).contains("percent");
    }

    private static String compact(String s) {
        return withoutRegexSpace(LatexCleaner.clean(s));
    }

    /** {@code s.replaceAll("\\s+", "")} without compiling the pattern at each call: regex \\s is [ \\t\\n\\x0B\\f\\r]. */
    static String withoutRegexSpace(String s) {
        char[] kept = null;
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean space = c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
            if (space && kept == null) {
                kept = new char[s.length()];
                s.getChars(0, i, kept, 0);
                n = i;
            } else if (!space && kept != null) {
                kept[n++] = c;
            }
        }
        return kept == null ? s : new String(kept, 0, n);
    }

    /** Last-resort text comparison for answers that are words ("Evelyn", "Even") rather than math. */
    private static String textual(String s) {
        String t = TEXT_CMD.matcher(LatexCleaner.clean(s)).replaceAll("$1");
        return TEXTUAL_DROPS.matcher(t.toLowerCase(Locale.ROOT)).replaceAll("");
    }

    private Verdict run(Function<ParseCache, Verdict> task) {
        Deadline d = Deadline.after(config.timeout());
        Future<Verdict> f;
        try {
            f = pool.submit(() -> task.apply(new ParseCache(d)));
        } catch (RuntimeException e) {
            return new Verdict(Status.UNPARSEABLE, null, null, VERSION, "verifier unavailable: " + e);
        }
        try {
            return f.get(config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            d.cancel();
            f.cancel(true);
            return new Verdict(Status.TIMEOUT, null, null, VERSION, "exceeded " + config.timeout().toMillis() + " ms");
        } catch (InterruptedException e) {
            d.cancel();
            f.cancel(true);
            Thread.currentThread().interrupt();
            return new Verdict(Status.TIMEOUT, null, null, VERSION, "interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof DeadlineExceededException) {
                return new Verdict(Status.TIMEOUT, null, null, VERSION, "exceeded " + config.timeout().toMillis() + " ms");
            }
            if (c instanceof LimitExceededException) {
                return new Verdict(Status.UNPARSEABLE, null, null, VERSION, "limit: " + c.getMessage());
            }
            return new Verdict(Status.UNPARSEABLE, null, null, VERSION, "internal error: " + c);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
