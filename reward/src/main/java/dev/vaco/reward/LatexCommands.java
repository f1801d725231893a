package dev.vaco.reward;

import dev.vaco.reward.Expr.*;
import dev.vaco.reward.LatexLexer.Tok;
import dev.vaco.reward.LatexLexer.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The LaTeX commands an answer may use, read on behalf of {@link LatexParser}: {@code \frac},
 * {@code \sqrt}, {@code \binom}, constants, decorations that only wrap their argument, the
 * functions ({@code \sin^2 x}, {@code \log_2 8}) and matrix environments. It moves through the
 * parser's tokens and calls back into its grammar for arguments, so nesting limits and the
 * deadline apply as in the rest of the parse.
 */
final class LatexCommands {
    private static final Set<String> MATRIX_ENVS = Set.of("pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "smallmatrix", "array");

    private final LatexParser parser;
    private final Deadline deadline;

    LatexCommands(LatexParser parser, Deadline deadline) {
        this.parser = parser;
        this.deadline = deadline;
    }

    Expr command(String name) {
        switch (name) {
            case "frac": {
                Expr n = argument();
                Expr d = argument();
                return new Mul(List.of(n, Expr.inverse(d)));
            }
            case "binom":
                return new Fn("binom", List.of(argument(), argument()));
            case "sqrt": {
                if (parser.accept("[")) {
                    Expr idx = parser.add();
                    parser.expect("]");
                    return new Fn("root", List.of(argument(), idx));
                }
                return new Fn("sqrt", List.of(argument()));
            }
            case "pi":
                return new Sym("pi");
            case "infty", "infinity":
                return new Sym("inf");
            case "emptyset":
                return new SetOf(List.of(), true);
            case "varnothing":
                // Math-Verify (latex2sympy) reads it as a symbol named varnothing, not as the empty set
                return new Sym("varnothing");
            case "boxed", "fbox", "overline", "vec", "hat", "bar", "tilde", "underline", "mathring", "widehat", "overrightarrow":
                return argument();
            case "begin":
                return environment();
            case "exp":
                return new Pow(new Sym("e"), functionArgument());
            default:
                break;
        }
        if (LatexLexer.FUNCTIONS.contains(name) || name.equals("arcsec") || name.equals("arccsc") || name.equals("arccot")) {
            return function(name);
        }
        throw new ParseException("unsupported command \\" + name);
    }

    private Expr function(String name) {
        Expr power = null;
        Expr logBase = null;
        if (parser.accept("^")) {
            power = parser.exponent();
        }
        if (name.equals("log") && parser.accept("_")) {
            logBase = parser.exponent();
        }
        Expr arg = functionArgument();
        String fn = switch (name) {
            case "asin" -> "arcsin";
            case "acos" -> "arccos";
            case "atan" -> "arctan";
            default -> name;
        };
        if (power instanceof Num p && p.value().equals(Rational.of(-1)) && !fn.startsWith("arc") && !fn.equals("log") && !fn.equals("ln")) {
            return new Fn("arc" + fn, List.of(arg));
        }
        Expr f = logBase == null ? new Fn(fn, List.of(arg)) : new Fn("log", List.of(arg, logBase));
        return power == null ? f : new Pow(f, power);
    }

    /** sin(x), sin{x}, or "\sin 2x" where the argument runs over one implicit product. */
    private Expr functionArgument() {
        if (parser.peek().is("(")) {
            return parser.pow();
        }
        if (parser.peek().is("{")) {
            return argument();
        }
        List<Expr> f = new ArrayList<>();
        f.add(parser.pow());
        while (parser.peek().type() == Type.NUM || parser.peek().type() == Type.ID) {
            f.add(parser.pow());
        }
        return f.size() == 1 ? f.get(0) : new Mul(f);
    }

    /** A macro argument: {group}, or one token; \frac12 splits the digit run. */
    private Expr argument() {
        parser.enter();
        try {
            Tok t = parser.peek();
            if (t.is("{")) {
                parser.next();
                Expr e = parser.list();
                parser.expect("}");
                return e;
            }
            if (t.type() == Type.NUM && t.text().length() > 1 && !t.text().contains(".")) {
                return parser.splitLeadingDigit();
            }
            if (t.type() == Type.CMD) {
                parser.next();
                return command(t.text());
            }
            return parser.atom();
        } finally {
            parser.leave();
        }
    }

    private String envName() {
        parser.expect("{");
        StringBuilder b = new StringBuilder();
        while (!parser.peek().is("}")) {
            Tok t = parser.next();
            if (t.type() == Type.EOF) {
                throw new ParseException("unclosed environment name");
            }
            b.append(t.text());
        }
        parser.next();
        return b.toString();
    }

    private Expr environment() {
        String env = envName();
        if (!MATRIX_ENVS.contains(env)) {
            throw new ParseException("unsupported environment " + env);
        }
        if (env.equals("array") && parser.peek().is("{")) {
            envName();
        }
        List<List<Expr>> rows = new ArrayList<>();
        List<Expr> row = new ArrayList<>();
        while (true) {
            deadline.check();
            if (parser.peek().is("end")) {
                parser.next();
                envName();
                break;
            }
            if (parser.peek().type() == Type.EOF) {
                throw new ParseException("unclosed \\begin{" + env + "}");
            }
            if (parser.peek().is("\\\\")) {
                parser.next();
                if (!row.isEmpty()) {
                    rows.add(row);
                }
                row = new ArrayList<>();
                continue;
            }
            if (parser.peek().is("&")) {
                parser.next();
                continue;
            }
            row.add(parser.rel());
        }
        if (!row.isEmpty()) {
            rows.add(row);
        }
        return new Matrix(rows);
    }
}
