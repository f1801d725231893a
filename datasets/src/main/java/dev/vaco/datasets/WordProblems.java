package dev.vaco.datasets;

import java.util.List;
import java.util.function.Function;

/**
 * Level-5 templates: one- and two-step word problems whose arithmetic is an {@link SyntheticExpr}. Texts use only
 * the tiny model's character set and stay under about 110 characters.
 */
final class WordProblems {

    record Word(String question, SyntheticExpr expr) {
    }

    private static final String[] NAMES = {"Tom", "Ann", "Sam", "Mia", "Ben", "Lily", "Max", "Zoe", "Leo", "Eva"};
    private static final String[] ITEMS = {"apples", "pens", "cards", "books", "marbles", "cookies", "stamps",
            "shells"};

    private WordProblems() {
    }

    private static SyntheticExpr num(long v) {
        return new SyntheticExpr.Num(v);
    }

    private static SyntheticExpr bin(char op, SyntheticExpr l, SyntheticExpr r) {
        return new SyntheticExpr.Bin(op, l, r);
    }

    private static final List<Function<SplitMix64, Word>> TEMPLATES = List.of(
            r -> {
                String n = pick(r, NAMES);
                String it = pick(r, ITEMS);
                int a = r.between(2, 60);
                int b = r.between(2, 40);
                return new Word(n + " has " + a + " " + it + " and buys " + b + " more. How many " + it + " does "
                        + n + " have now?", bin('+', num(a), num(b)));
            },
            r -> {
                String n = pick(r, NAMES);
                String it = pick(r, ITEMS);
                int a = r.between(10, 99);
                int b = r.between(1, a);
                return new Word(n + " has " + a + " " + it + " and gives away " + b + ". How many " + it
                        + " are left?", bin('-', num(a), num(b)));
            },
            r -> {
                String it = pick(r, ITEMS);
                int a = r.between(2, 25);
                int b = r.between(2, 9);
                return new Word("A box holds " + a + " " + it + ". How many " + it + " are in " + b + " boxes?",
                        bin('*', num(a), num(b)));
            },
            r -> {
                String n = pick(r, NAMES);
                String it = pick(r, ITEMS);
                int a = r.between(2, 9);
                int b = r.between(2, 12);
                int c = r.between(1, a * b);
                return new Word(n + " buys " + a + " packs of " + b + " " + it + " and loses " + c + ". How many "
                        + it + " are left?", bin('-', bin('*', num(a), num(b)), num(c)));
            },
            r -> {
                String n = pick(r, NAMES);
                int a = r.between(5, 30);
                int b = r.between(2, 9);
                int c = r.between(1, 40);
                return new Word(n + " reads " + a + " pages a day for " + b + " days, then " + c
                        + " more. How many pages is that?", bin('+', bin('*', num(a), num(b)), num(c)));
            },
            r -> {
                String n = pick(r, NAMES);
                int a = r.between(10, 99);
                int b = r.between(1, a);
                int c = r.between(1, 50);
                return new Word(n + " has " + a + " dollars, spends " + b + " and earns " + c + ". How many dollars does "
                        + n + " have?", bin('+', bin('-', num(a), num(b)), num(c)));
            },
            r -> {
                int a = r.between(2, 12);
                int b = r.between(2, 12);
                int c = r.between(1, a * b);
                return new Word("There are " + a + " rows of " + b + " chairs and " + c
                        + " are taken. How many chairs are free?", bin('-', bin('*', num(a), num(b)), num(c)));
            },
            r -> {
                String n = pick(r, NAMES);
                String m = pickOther(r, NAMES, n);
                String it = pick(r, ITEMS);
                int a = r.between(2, 50);
                int b = r.between(1, 30);
                return new Word(n + " has " + a + " " + it + ". " + m + " has " + b + " more than " + n
                        + ". How many do they have together?", bin('+', num(a), bin('+', num(a), num(b))));
            },
            r -> {
                String n = pick(r, NAMES);
                String it = pick(r, ITEMS);
                int a = r.between(2, 9);
                int b = r.between(2, 12);
                int c = a * b + r.between(0, 40);
                return new Word(n + " buys " + a + " " + it + " at " + b + " dollars each and pays " + c
                        + " dollars. What is the change?", bin('-', num(c), bin('*', num(a), num(b))));
            });

    static Word generate(SplitMix64 rng) {
        return TEMPLATES.get(rng.nextInt(TEMPLATES.size())).apply(rng);
    }

    private static String pick(SplitMix64 rng, String[] options) {
        return options[rng.nextInt(options.length)];
    }

    private static String pickOther(SplitMix64 rng, String[] options, String not) {
        String s;
        do {
            s = pick(rng, options);
        } while (s.equals(not));
        return s;
    }
}
