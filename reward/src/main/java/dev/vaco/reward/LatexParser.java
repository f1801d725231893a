package dev.vaco.reward;

import dev.vaco.reward.Expr.*;
import dev.vaco.reward.LatexLexer.Tok;
import dev.vaco.reward.LatexLexer.Type;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Recursive-descent parser for answer-sized LaTeX. Recursion is bounded by {@link #MAX_DEPTH}, so
 * 100k nested braces fail fast with a {@link LimitExceededException} instead of a StackOverflowError.
 *
 * <pre>
 * list  := rel ((',' | ';') rel)*
 * rel   := ratio (relop ratio)*
 * ratio := union (':' union)*
 * union := add ('\cup' add)*
 * add   := mul (('+' | '-' | '\pm' | '\mp') mul)*
 * mul   := unary (('*' | '/' | implicit) unary)*
 * unary := ('-' | '+' | '\pm') unary | pow
 * pow   := postfix ('^' exponent)?
 * postfix := atom ('!' | '%' | '_' sub | "'")*
 * </pre>
 *
 * <p>Commands ({@code \frac}, {@code \sqrt}, functions, matrix environments) are read by
 * {@link LatexCommands}, which calls back into this grammar for their arguments.
 */
public final class LatexParser {
    static final int MAX_DEPTH = 200;
    static final int MAX_ANSWER_CHARS = 10_000;

    /** A subscript that names a base: "204_5". */
    private static final Pattern RADIX = Pattern.compile("\\d{1,2}");
    private static final Set<String> REL_OPS = Set.of("=", "<", ">", "<=", ">=", "!=", "in", "approx", "sim", "equiv", "simeq", "cong");

    private final List<Tok> toks;
    private final boolean percentAsFraction;
    private final Deadline deadline;
    private final LatexCommands commands;
    private int pos;
    private int depth;
    private int absDepth;

    private LatexParser(List<Tok> toks, boolean percentAsFraction, Deadline deadline) {
        this.toks = toks;
        this.percentAsFraction = percentAsFraction;
        this.deadline = deadline;
        this.commands = new LatexCommands(this, deadline);
    }

    /** Parses one extracted answer. Throws ParseException or LimitExceededException, nothing else by design. */
    public static Expr parse(String answer, boolean percentAsFraction, Deadline deadline) {
        if (answer.length() > MAX_ANSWER_CHARS) {
            throw new LimitExceededException("answer longer than " + MAX_ANSWER_CHARS + " characters");
        }
        List<Tok> toks = LatexLexer.lex(LatexCleaner.clean(answer), deadline);
        if (toks.size() == 1) {
            throw new ParseException("empty answer");
        }
        LatexParser p = new LatexParser(toks, percentAsFraction, deadline);
        Expr e = p.list();
        if (p.peek().type() != Type.EOF) {
            throw new ParseException("unexpected '" + p.peek().text() + "'");
        }
        return e;
    }

    // ---- token helpers ----

    Tok peek() {
        return toks.get(pos);
    }

    Tok next() {
        Tok t = toks.get(pos);
        if (t.type() != Type.EOF) {
            pos++;
        }
        return t;
    }

    boolean accept(String op) {
        if (peek().is(op)) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(String op) {
        if (!accept(op)) {
            throw new ParseException("expected '" + op + "' but found '" + peek().text() + "'");
        }
    }

    void enter() {
        deadline.check();
        if (++depth > MAX_DEPTH) {
            throw new LimitExceededException("nesting deeper than " + MAX_DEPTH);
        }
    }

    /** Closes an {@link #enter}. */
    void leave() {
        depth--;
    }

    // ---- grammar ----

    /**
     * "a, b" is a list; "x=1, y=2; x=3, y=4" is a list of solutions, one tuple per ";" group (Math-Verify reads a
     * semicolon as the outer separator).
     */
    Expr list() {
        List<List<Expr>> groups = null;
        List<Expr> items = new ArrayList<>();
        items.add(rel());
        int total = 1;
        while (peek().is(",") || peek().is(";")) {
            if (next().is(";")) {
                if (groups == null) {
                    groups = new ArrayList<>();
                }
                groups.add(items);
                items = new ArrayList<>();
            }
            if (atListEnd()) {
                break;
            }
            items.add(rel());
            if (++total > 10_000) {
                throw new LimitExceededException("list longer than 10000 items");
            }
        }
        if (groups == null) {
            return items.size() == 1 ? items.get(0) : new SetOf(items, false);
        }
        if (!items.isEmpty()) {
            groups.add(items);
        }
        List<Expr> solutions = new ArrayList<>();
        for (List<Expr> g : groups) {
            solutions.add(g.size() == 1 ? g.get(0) : new Tuple(g));
        }
        return solutions.size() == 1 ? solutions.get(0) : new SetOf(solutions, false);
    }

    private boolean atListEnd() {
        Tok t = peek();
        return t.type() == Type.EOF || t.is(")") || t.is("]") || t.is("}") || t.is("\\}");
    }

    Expr rel() {
        enter();
        List<Expr> operands = new ArrayList<>();
        List<String> ops = new ArrayList<>();
        operands.add(ratio());
        while (true) {
            String op = relOp(peek());
            if (op == null) {
                break;
            }
            next();
            ops.add(op);
            operands.add(ratio());
        }
        depth--;
        return ops.isEmpty() ? operands.get(0) : new Rel(operands, ops);
    }

    private static String relOp(Tok t) {
        if (t.type() == Type.OP && REL_OPS.contains(t.text())) {
            return t.text();
        }
        if (t.type() == Type.CMD && REL_OPS.contains(t.text())) {
            return switch (t.text()) {
                case "sim", "simeq", "cong" -> "approx";
                case "equiv" -> "=";
                default -> t.text();
            };
        }
        return null;
    }

    private Expr ratio() {
        Expr a = union();
        while (accept(":")) {
            a = new Mul(List.of(a, Expr.inverse(union())));
        }
        return a;
    }

    private Expr union() {
        List<Expr> parts = new ArrayList<>();
        parts.add(add());
        while (peek().is("cup")) {
            next();
            parts.add(add());
        }
        return parts.size() == 1 ? parts.get(0) : new Union(parts);
    }

    Expr add() {
        Expr acc = null;
        List<Expr> terms = new ArrayList<>();
        terms.add(mul());
        while (true) {
            Tok t = peek();
            if (t.is("+")) {
                next();
                terms.add(mul());
            } else if (t.is("-")) {
                next();
                terms.add(Expr.neg(mul()));
            } else if (t.is("pm") || t.is("mp")) {
                next();
                Expr left = terms.size() == 1 ? terms.get(0) : new Add(terms);
                Expr right = mul();
                acc = new PlusMinus(left, t.is("mp") ? Expr.neg(right) : right);
                terms = new ArrayList<>();
                terms.add(acc);
            } else {
                break;
            }
        }
        return terms.size() == 1 ? terms.get(0) : new Add(terms);
    }

    private Expr mul() {
        List<Expr> factors = new ArrayList<>();
        factors.add(unary());
        while (true) {
            Tok t = peek();
            if (t.is("*")) {
                next();
                factors.add(unary());
            } else if (t.is("/")) {
                next();
                factors.add(Expr.inverse(unary()));
            } else if (startsImplicitFactor(t)) {
                Expr f = pow();
                Expr mixed = factors.size() == 1 ? mixedNumber(factors.get(0), f) : null;
                if (mixed != null && !startsImplicitFactor(peek())) {
                    factors.set(0, mixed);
                } else {
                    factors.add(f);
                }
            } else {
                break;
            }
        }
        return factors.size() == 1 ? factors.get(0) : new Mul(factors);
    }

    /** "3\\frac{1}{2}" is the mixed number 7/2 (MATH convention), not 3/2; only for integer literals. */
    private static Expr mixedNumber(Expr whole, Expr frac) {
        if (whole instanceof Num w && !w.approx() && w.value().isInteger() && w.value().signum() > 0
                && frac instanceof Mul m && m.factors().size() == 2
                && m.factors().get(0) instanceof Num n && !n.approx() && n.value().isInteger()
                && m.factors().get(1) instanceof Pow p && p.exp().equals(Expr.num(-1))
                && p.base() instanceof Num d && !d.approx() && d.value().isInteger()
                && n.value().compareTo(d.value()) < 0 && n.value().signum() > 0) {
            return new Add(List.of(w, frac));
        }
        return null;
    }

    private boolean startsImplicitFactor(Tok t) {
        return switch (t.type()) {
            case NUM, ID, WORD -> true;
            case CMD -> !t.is("pm") && !t.is("mp") && !t.is("cup") && relOp(t) == null && !t.is("end");
            case OP -> t.is("(") || t.is("{") || t.is("\\{") || (t.is("|") && absDepth == 0);
            default -> false;
        };
    }

    private Expr unary() {
        enter();
        Expr e;
        if (accept("-")) {
            e = Expr.neg(unary());
        } else if (accept("+")) {
            e = unary();
        } else if (peek().is("pm") || peek().is("mp")) {
            next();
            e = new PlusMinus(Expr.num(0), unary());
        } else {
            e = pow();
        }
        depth--;
        return e;
    }

    Expr pow() {
        Expr base = postfix();
        if (accept("^")) {
            Expr exp = exponent();
            base = postfixOps(new Pow(base, exp));
        }
        return base;
    }

    /** ^{...} takes the group; ^2 takes a single digit (x^23 is x^2*3 in LaTeX); ^-1 and ^x take one atom. */
    Expr exponent() {
        enter();
        Expr e;
        Tok t = peek();
        if (t.type() == Type.NUM && t.text().length() > 1 && !t.text().contains(".")) {
            e = splitLeadingDigit();
        } else if (accept("-")) {
            e = Expr.neg(exponent());
        } else {
            e = postfix();
            if (accept("^")) {
                e = new Pow(e, exponent());
            }
        }
        depth--;
        return e;
    }

    private Expr postfix() {
        return postfixOps(atom());
    }

    private Expr postfixOps(Expr a) {
        while (true) {
            Tok t = peek();
            if (t.is("!")) {
                next();
                a = new Fn("fact", List.of(a));
            } else if (t.is("%")) {
                next();
                a = percentAsFraction ? new Mul(List.of(a, Expr.inverse(Expr.num(100)))) : a;
            } else if (t.is("_")) {
                next();
                a = subscript(a);
            } else if (t.is("'")) {
                next();
                a = a instanceof Sym s ? new Sym(s.name() + "'") : a;
            } else {
                return a;
            }
        }
    }

    /** Subscripts name things (a_{37}, S_{MBCN}) or give a number base (204_5); they are read as raw text. */
    private Expr subscript(Expr base) {
        StringBuilder sub = new StringBuilder();
        if (accept("{")) {
            int d = 1;
            while (true) {
                Tok t = next();
                if (t.type() == Type.EOF) {
                    throw new ParseException("unclosed subscript");
                }
                if (t.is("{")) {
                    d++;
                } else if (t.is("}") && --d == 0) {
                    break;
                }
                sub.append(t.text());
            }
        } else {
            Tok t = next();
            sub.append(t.text());
        }
        String s = sub.toString();
        if (base instanceof Sym sym) {
            return new Sym(sym.name() + "_" + s);
        }
        if (base instanceof Num n && n.value().isInteger() && !n.approx() && RADIX.matcher(s).matches()) {
            int radix = Integer.parseInt(s);
            if (radix >= 2 && radix <= 36) {
                try {
                    return new Num(Rational.of(new BigInteger(n.value().num().toString(), radix)), false);
                } catch (NumberFormatException e) {
                    throw new ParseException("digits invalid in base " + radix);
                }
            }
        }
        return base;
    }

    Expr atom() {
        enter();
        try {
            Tok t = next();
            switch (t.type()) {
                case NUM:
                    return new Num(Rational.parseDecimal(t.text()), t.text().contains("."));
                case ID:
                    return new Sym(t.text());
                case TEXT:
                    return new Text(t.text());
                case CMD:
                    return commands.command(t.text());
                case WORD:
                    throw new ParseException("word '" + t.text() + "' is not math");
                case EOF:
                    throw new ParseException("unexpected end of answer");
                default:
                    break;
            }
            switch (t.text()) {
                case "(", "[" -> {
                    return bracketed(t.text());
                }
                case "{" -> {
                    Expr e = list();
                    expect("}");
                    return e instanceof SetOf s && !s.braced() ? new SetOf(s.items(), true) : e;
                }
                case "\\{" -> {
                    if (accept("\\}")) {
                        return new SetOf(List.of(), true);
                    }
                    Expr e = list();
                    expect("\\}");
                    return e instanceof SetOf s ? new SetOf(s.items(), true) : new SetOf(List.of(e), true);
                }
                case "|" -> {
                    absDepth++;
                    Expr e = add();
                    absDepth--;
                    expect("|");
                    return new Fn("abs", List.of(e));
                }
                default -> throw new ParseException("unexpected '" + t.text() + "'");
            }
        } finally {
            depth--;
        }
    }

    /** "(a, b]" and "[a, b)" are intervals; "(a, b)" stays a tuple that also equals the open interval. */
    private Expr bracketed(String open) {
        int saved = absDepth;
        absDepth = 0;
        List<Expr> items = new ArrayList<>();
        if (!peek().is(")") && !peek().is("]")) {
            Expr e = list();
            if (e instanceof SetOf s && !s.braced()) {
                items.addAll(s.items());
            } else {
                items.add(e);
            }
        }
        absDepth = saved;
        Tok close = next();
        if (!close.is(")") && !close.is("]")) {
            throw new ParseException("unclosed '" + open + "'");
        }
        boolean square = open.equals("[") || close.is("]");
        if (items.size() == 1 && open.equals("(") == close.is(")")) {
            return items.get(0);
        }
        if (items.size() == 2 && square) {
            return new Interval(items.get(0), items.get(1), open.equals("["), close.is("]"));
        }
        return new Tuple(items);
    }

    /** Takes the first digit of the next number and leaves the rest as a token: x^23 and \\frac12 read one digit. */
    Expr splitLeadingDigit() {
        Tok t = peek();
        toks.set(pos, new Tok(Type.NUM, t.text().substring(1)));
        return new Num(Rational.parseDecimal(t.text().substring(0, 1)), false);
    }
}
