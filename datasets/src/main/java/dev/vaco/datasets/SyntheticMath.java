package dev.vaco.datasets;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The built-in task: integer arithmetic with a short worked solution in the rewarded format, one step a
 * line, ending in {@code \boxed{ANSWER}}, e.g. question {@code What is 23+45*2?} and solution
 * {@code 45*2=90\n23+90=113\n\boxed{113}}.
 *
 * <p>Levels: 1 = {@code a+b} or {@code a-b} (numbers 0..99); 2 = two operations of + and - read left to
 * right; 3 = one {@code *} with one + or -, parentheses where the tree needs them; 4 = three operations of
 * + - * in any shape; 5 = one- and two-step word problems. No division; every intermediate value is a
 * non-negative integer of at most 4 digits, and every product has a factor of at most 12.
 *
 * <p>Levels 6-9, the demo's task (BENCHMARKS.md, "The demo's task: demonstrations run out"): chains of k = level - 5 additions and subtractions
 * read left to right, a two-digit start and one-digit operands, every intermediate value in 0..99, e.g. level 8
 * {@code What is 47+8-5+3?} with solution {@code 47+8=55\n55-5=50\n50+3=53\n\boxed{53}}, the working of levels 1-4.
 * Their steps are the easy part of levels 1-2's arithmetic (a one-digit operand): the demo demonstrates levels 6-7 and
 * asks RL for levels 1-2, the same working with two-digit operands, from final answers alone.
 *
 * <p>Train/test split by construction: a problem is held out iff the hash of its canonical expression
 * (the minimal-parentheses rendering, also for word problems, so the same arithmetic never sits on both
 * sides) is 0 mod 10 ({@link #isHeldOut}). {@link #stream} skips held-out problems; {@link #testSet}
 * draws only held-out ones. Everything is determined by the seed ({@link SplitMix64}).
 *
 * <p>Texts use only the tiny model's characters and stay short: question + solution is under 200
 * characters at every level (asserted in tests).
 */
public final class SyntheticMath {

    public static final int MIN_LEVEL = 1;
    public static final int MAX_LEVEL = 9;
    /** The first level of the step chains (levels 6..9: 1..4 operations). */
    public static final int FIRST_CHAIN_LEVEL = 6;
    public static final String SOURCE = "synthetic";

    /** A generated problem and the arithmetic expression whose value is its gold answer. */
    public record Generated(Problem problem, String expression) {
    }

    private SyntheticMath() {
    }

    /** Endless training stream (held-out problems skipped) with the {@link LevelMix#DEFAULT} mix. */
    public static Iterator<Problem> stream(long seed) {
        return stream(seed, LevelMix.DEFAULT);
    }

    /** Endless training stream over the given levels, uniformly. */
    public static Iterator<Problem> stream(long seed, int... levels) {
        return stream(seed, LevelMix.of(levels));
    }

    /** Endless training stream: deterministic given seed and mix, never yields a held-out problem. */
    public static Iterator<Problem> stream(long seed, LevelMix mix) {
        SplitMix64 rng = new SplitMix64(seed);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Problem next() {
                while (true) {
                    Generated g = generate(mix.sample(rng), rng);
                    if (!isHeldOut(g.expression())) {
                        return g.problem();
                    }
                }
            }
        };
    }

    /** {@code n} distinct held-out problems with the default mix. */
    public static List<Problem> testSet(int n, long seed) {
        return testSet(n, seed, LevelMix.DEFAULT);
    }

    /**
     * {@code n} distinct (by question) held-out problems, deterministic given seed and mix.
     *
     * @throws IllegalArgumentException when the mix's held-out pool cannot supply n distinct problems
     */
    public static List<Problem> testSet(int n, long seed, LevelMix mix) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, found " + n);
        }
        SplitMix64 rng = new SplitMix64(seed);
        Set<String> seen = new HashSet<>();
        List<Problem> out = new ArrayList<>(n);
        // Give up when the pool looks exhausted: this many draws in a row brought nothing new. For the
        // smallest pool (level 1, ~2,000 held-out problems) the last new one takes ~20,000 draws on average.
        final int staleLimit = 500_000;
        int stale = 0;
        while (out.size() < n) {
            if (stale >= staleLimit) {
                throw new IllegalArgumentException("found only " + out.size() + " distinct held-out problems of "
                        + n + " requested for mix " + mix.weights() + " (no new one in " + staleLimit + " draws)");
            }
            Generated g = generate(mix.sample(rng), rng);
            if (isHeldOut(g.expression()) && seen.add(g.problem().question())) {
                out.add(g.problem());
                stale = 0;
            } else {
                stale++;
            }
        }
        return out;
    }

    /** True for the held-out (test) side: the canonical expression's hash is 0 mod 10. */
    public static boolean isHeldOut(String canonicalExpression) {
        return Long.remainderUnsigned(hash(canonicalExpression), 10) == 0;
    }

    /** One problem of the given level, drawn from rng (whether held out or not). */
    public static Generated generate(int level, SplitMix64 rng) {
        requireLevel(level);
        String question;
        SyntheticExpr expr;
        String subject;
        if (level == 5) {
            WordProblems.Word w = WordProblems.generate(rng);
            question = w.question();
            expr = w.expr();
            subject = "word problem";
        } else if (level >= FIRST_CHAIN_LEVEL) {
            expr = chain(level - FIRST_CHAIN_LEVEL + 1, rng);
            question = "What is " + expr + "?";
            subject = "chain";
        } else {
            expr = arithmetic(level, rng);
            question = "What is " + expr + "?";
            subject = "arithmetic";
        }
        List<String> lines = new ArrayList<>();
        SyntheticExpr.steps(expr, lines);
        String answer = Long.toString(expr.value());
        lines.add("\\boxed{" + answer + "}");
        String canonical = expr.toString();
        String id = SOURCE + "/L" + level + "/" + String.format("%016x", hash(question));
        Problem p = new Problem(id, question, answer, String.join("\n", lines), SOURCE, Integer.toString(level),
                subject);
        return new Generated(p, canonical);
    }

    static void requireLevel(int level) {
        if (level < MIN_LEVEL || level > MAX_LEVEL) {
            throw new IllegalArgumentException("level must be in " + MIN_LEVEL + ".." + MAX_LEVEL + ", found " + level);
        }
    }

    private static SyntheticExpr arithmetic(int level, SplitMix64 rng) {
        // Rejection sampling: draw a shape and numbers, keep it if it meets the level's constraints.
        while (true) {
            SyntheticExpr e;
            switch (level) {
                case 1:
                    e = new SyntheticExpr.Bin(rng.nextInt(2) == 0 ? '+' : '-', number(rng, 0, 99), number(rng, 0, 99));
                    break;
                case 2:
                    e = new SyntheticExpr.Bin(addSub(rng),
                            new SyntheticExpr.Bin(addSub(rng), number(rng, 0, 99), number(rng, 0, 99)), number(rng, 0, 99));
                    break;
                case 3:
                    e = tree(rng, 2, 1, 99);
                    if (!SyntheticExpr.contains(e, '*') || !(SyntheticExpr.contains(e, '+') || SyntheticExpr.contains(e, '-'))) {
                        continue;
                    }
                    break;
                default:
                    e = tree(rng, 3, 1, 50);
                    if (!SyntheticExpr.contains(e, '*')) {
                        continue;
                    }
            }
            if (SyntheticExpr.withinBounds(e, 9999) && SyntheticExpr.productsEasy(e, 12)) {
                return e;
            }
        }
    }

    /** k additions or subtractions of 1..9 onto a start in 10..99, left to right, every partial value in 0..99. */
    private static SyntheticExpr chain(int k, SplitMix64 rng) {
        SyntheticExpr e = number(rng, 10, 99);
        long value = e.value();
        for (int i = 0; i < k; i++) {
            int d = rng.between(1, 9);
            // the direction is a fair coin unless it would leave 0..99
            char op = value + d > 99 ? '-' : value - d < 0 ? '+' : addSub(rng);
            e = new SyntheticExpr.Bin(op, e, new SyntheticExpr.Num(d));
            value = e.value();
        }
        return e;
    }

    /** A random tree with {@code ops} operations of + - * and leaves in [lo, hi]. */
    private static SyntheticExpr tree(SplitMix64 rng, int ops, int lo, int hi) {
        if (ops == 0) {
            // Small leaves are likelier so that products stay easy without endless rejection.
            return rng.nextInt(2) == 0 ? number(rng, lo, Math.min(hi, 12)) : number(rng, lo, hi);
        }
        int leftOps = rng.nextInt(ops);
        char op = "+-*".charAt(rng.nextInt(3));
        return new SyntheticExpr.Bin(op, tree(rng, leftOps, lo, hi), tree(rng, ops - 1 - leftOps, lo, hi));
    }

    private static char addSub(SplitMix64 rng) {
        return rng.nextInt(2) == 0 ? '+' : '-';
    }

    private static SyntheticExpr number(SplitMix64 rng, int lo, int hi) {
        return new SyntheticExpr.Num(rng.between(lo, hi));
    }

    /** FNV-1a over UTF-8 bytes, then SplitMix64's finaliser so that mod 10 sees well-mixed bits. */
    static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }

}
