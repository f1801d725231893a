package dev.vaco.chat;

import dev.vaco.chat.Lexer.Token;
import dev.vaco.chat.Lexer.Type;
import dev.vaco.chat.Node.Expr;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Expression half of the recursive-descent parser (statements are in {@link Parser}), plus the
 * token cursor both halves share. Grammar and operator precedence follow {@code jinja2.parser}
 * closely, quirks included, because templates are written against Jinja: filters bind tighter
 * than arithmetic ({@code messages|length - 1} is {@code (messages|length) - 1}), {@code **} is
 * left-associative, {@code x is test arg} takes one bare argument, adjacent string literals join.
 */
class ExpressionParser {

    /** Nesting limit for blocks and parenthesised expressions: a clear error instead of a StackOverflowError. */
    private static final int MAX_DEPTH = 200;

    final List<Token> tokens;
    int p;
    private int depth;

    ExpressionParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    // ---- expressions ------------------------------------------------------------------------

    Expr parseTuple(boolean withCondexpr, boolean explicitParens, Set<String> extraEnd) {
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expect(Type.OP, ",");
            }
            Token c = cur();
            if (c.type() == Type.VAR_END || c.type() == Type.BLOCK_END || c.isOp(")")
                    || (c.type() == Type.NAME && extraEnd.contains(c.value()))) {
                break;
            }
            items.add(withCondexpr ? parseExpression(true) : parseOr());
            if (cur().isOp(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!items.isEmpty()) {
                return items.get(0);
            }
            if (!explicitParens) {
                throw error("expected an expression, got " + cur(), cur());
            }
        }
        return new Node.TupleLit(items);
    }

    Expr parseExpression(boolean withCondexpr) {
        if (!withCondexpr) {
            return parseOr();
        }
        Expr e = parseOr();
        while (cur().isName("if")) {
            p++;
            Expr cond = parseOr();
            Expr other = null;
            if (cur().isName("else")) {
                p++;
                other = parseExpression(true);
            }
            e = new Node.CondExpr(cond, e, other);
        }
        return e;
    }

    Expr parseOr() {
        Expr left = parseAnd();
        while (cur().isName("or")) {
            p++;
            left = new Node.Binary("or", left, parseAnd());
        }
        return left;
    }

    Expr parseAnd() {
        Expr left = parseNot();
        while (cur().isName("and")) {
            p++;
            left = new Node.Binary("and", left, parseNot());
        }
        return left;
    }

    Expr parseNot() {
        if (cur().isName("not")) {
            Token t = cur();
            p++;
            enter(t);
            Expr e = new Node.Unary("not", parseNot());
            exit();
            return e;
        }
        return parseCompare();
    }

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    Expr parseCompare() {
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token c = cur();
            if (c.type() == Type.OP && COMPARE_OPS.contains(c.value())) {
                p++;
                ops.add(c.value());
            } else if (c.isName("in")) {
                p++;
                ops.add("in");
            } else if (c.isName("not") && peek(1).isName("in")) {
                p += 2;
                ops.add("notin");
            } else {
                break;
            }
            rest.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Node.Compare(first, ops, rest);
    }

    Expr parseMath1() {
        Expr left = parseConcat();
        while (cur().isOp("+") || cur().isOp("-")) {
            String op = cur().value();
            p++;
            left = new Node.Binary(op, left, parseConcat());
        }
        return left;
    }

    Expr parseConcat() {
        Expr left = parseMath2();
        while (cur().isOp("~")) {
            p++;
            left = new Node.Binary("~", left, parseMath2());
        }
        return left;
    }

    Expr parseMath2() {
        Expr left = parsePow();
        while (cur().isOp("*") || cur().isOp("/") || cur().isOp("//") || cur().isOp("%")) {
            String op = cur().value();
            p++;
            left = new Node.Binary(op, left, parsePow());
        }
        return left;
    }

    Expr parsePow() {
        Expr left = parseUnary(true);
        while (cur().isOp("**")) {
            p++;
            left = new Node.Binary("**", left, parseUnary(true));
        }
        return left;
    }

    Expr parseUnary(boolean withFilter) {
        Token t = cur();
        enter(t);
        Expr node;
        if (t.isOp("-") || t.isOp("+")) {
            p++;
            node = new Node.Unary(t.value(), parseUnary(false));
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        if (withFilter) {
            node = parseFilterExpr(node);
        }
        exit();
        return node;
    }

    Expr parsePrimary() {
        Token t = cur();
        switch (t.type()) {
            case NAME -> {
                p++;
                return switch (t.value()) {
                    case "true", "True" -> new Node.Const(Boolean.TRUE);
                    case "false", "False" -> new Node.Const(Boolean.FALSE);
                    case "none", "None" -> new Node.Const(null);
                    default -> new Node.Name(t.value());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder();
                while (cur().type() == Type.STRING) { // adjacent literals concatenate, as in Python
                    sb.append(cur().value());
                    p++;
                }
                return new Node.Const(sb.toString());
            }
            case INT -> {
                p++;
                try {
                    return new Node.Const(Long.parseLong(t.value()));
                } catch (NumberFormatException e) {
                    throw error("integer literal too large", t);
                }
            }
            case FLOAT -> {
                p++;
                return new Node.Const(Double.parseDouble(t.value()));
            }
            case OP -> {
                if (t.isOp("(")) {
                    p++;
                    Expr e = parseTuple(true, true, Set.of());
                    expect(Type.OP, ")");
                    return e;
                }
                if (t.isOp("[")) {
                    p++;
                    List<Expr> items = new ArrayList<>();
                    while (!cur().isOp("]")) {
                        if (!items.isEmpty()) {
                            expect(Type.OP, ",");
                            if (cur().isOp("]")) {
                                break;
                            }
                        }
                        items.add(parseExpression(true));
                    }
                    p++;
                    return new Node.ListLit(items);
                }
                if (t.isOp("{")) {
                    p++;
                    List<Expr> keys = new ArrayList<>();
                    List<Expr> values = new ArrayList<>();
                    while (!cur().isOp("}")) {
                        if (!keys.isEmpty()) {
                            expect(Type.OP, ",");
                            if (cur().isOp("}")) {
                                break;
                            }
                        }
                        keys.add(parseExpression(true));
                        expect(Type.OP, ":");
                        values.add(parseExpression(true));
                    }
                    p++;
                    return new Node.DictLit(keys, values);
                }
                throw error("unexpected " + t, t);
            }
            default -> throw error("unexpected " + t, t);
        }
    }

    Expr parsePostfix(Expr node) {
        while (true) {
            Token t = cur();
            if (t.isOp(".")) {
                p++;
                Token a = cur();
                if (a.type() == Type.NAME) {
                    node = new Node.GetAttr(node, a.value());
                } else if (a.type() == Type.INT) {
                    node = new Node.GetItem(node, new Node.Const(Long.parseLong(a.value())));
                } else {
                    throw error("expected an attribute name after '.', got " + a, a);
                }
                p++;
            } else if (t.isOp("[")) {
                p++;
                List<Expr> keys = new ArrayList<>();
                while (!cur().isOp("]")) {
                    if (!keys.isEmpty()) {
                        expect(Type.OP, ",");
                        if (cur().isOp("]")) {
                            break;
                        }
                    }
                    keys.add(parseSubscribed());
                }
                p++;
                if (keys.isEmpty()) {
                    throw error("empty subscript", t);
                }
                node = new Node.GetItem(node, keys.size() == 1 ? keys.get(0) : new Node.TupleLit(keys));
            } else if (t.isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    Expr parseSubscribed() {
        Expr start = null;
        if (cur().isOp(":")) {
            p++;
        } else {
            Expr e = parseExpression(true);
            if (!cur().isOp(":")) {
                return e;
            }
            p++;
            start = e;
        }
        Expr stop = null;
        if (!cur().isOp(":") && !cur().isOp("]") && !cur().isOp(",")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (cur().isOp(":")) {
            p++;
            if (!cur().isOp("]") && !cur().isOp(",")) {
                step = parseExpression(true);
            }
        }
        return new Node.Slice(start, stop, step);
    }

    Node.Call parseCall(Expr fn) {
        List<Expr> args = new ArrayList<>();
        List<Node.Kwarg> kwargs = new ArrayList<>();
        parseCallArgs(args, kwargs);
        return new Node.Call(fn, args, kwargs);
    }

    /** At '(': positional then keyword arguments up to ')'. */
    void parseCallArgs(List<Expr> args, List<Node.Kwarg> kwargs) {
        expect(Type.OP, "(");
        boolean first = true;
        while (!cur().isOp(")")) {
            if (!first) {
                expect(Type.OP, ",");
                if (cur().isOp(")")) {
                    break;
                }
            }
            first = false;
            Token t = cur();
            if (t.type() == Type.NAME && peek(1).isOp("=")) {
                p += 2;
                kwargs.add(new Node.Kwarg(t.value(), parseExpression(true)));
            } else {
                if (t.isOp("*") || t.isOp("**")) {
                    throw error("*args/**kwargs in calls are not supported", t);
                }
                if (!kwargs.isEmpty()) {
                    throw error("positional argument after keyword argument", t);
                }
                args.add(parseExpression(true));
            }
        }
        p++;
    }

    Expr parseFilterExpr(Expr node) {
        while (true) {
            Token t = cur();
            if (t.isOp("|")) {
                p++;
                node = new Node.Filter(node, parseOneFilter());
            } else if (t.isName("is")) {
                p++;
                node = parseTest(node);
            } else if (t.isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    List<Node.FilterCall> parseFilterChain(boolean leadingPipe) {
        List<Node.FilterCall> out = new ArrayList<>();
        if (leadingPipe) {
            expect(Type.OP, "|");
        }
        out.add(parseOneFilter());
        while (cur().isOp("|")) {
            p++;
            out.add(parseOneFilter());
        }
        return out;
    }

    Node.FilterCall parseOneFilter() {
        Token start = cur();
        StringBuilder name = new StringBuilder(expect(Type.NAME, null).value());
        while (cur().isOp(".")) {
            p++;
            name.append('.').append(expect(Type.NAME, null).value());
        }
        List<Expr> args = new ArrayList<>();
        List<Node.Kwarg> kwargs = new ArrayList<>();
        if (cur().isOp("(")) {
            parseCallArgs(args, kwargs);
        }
        if (!Filters.exists(name.toString())) { // Jinja also rejects unknown filters at compile time
            throw error("no filter named '" + name + "'", start);
        }
        return new Node.FilterCall(name.toString(), args, kwargs);
    }

    private static final Set<String> NO_TEST_ARG = Set.of("else", "or", "and", "if");

    Expr parseTest(Expr node) {
        boolean negated = false;
        if (cur().isName("not")) {
            p++;
            negated = true;
        }
        Token start = cur();
        StringBuilder name = new StringBuilder(expect(Type.NAME, null).value());
        while (cur().isOp(".")) {
            p++;
            name.append('.').append(expect(Type.NAME, null).value());
        }
        if (!Tests.exists(name.toString())) {
            throw error("no test named '" + name + "'", start);
        }
        List<Expr> args = new ArrayList<>();
        List<Node.Kwarg> kwargs = new ArrayList<>();
        Token c = cur();
        if (c.isOp("(")) {
            parseCallArgs(args, kwargs);
        } else if ((c.type() == Type.NAME && !NO_TEST_ARG.contains(c.value())) || c.type() == Type.STRING
                || c.type() == Type.INT || c.type() == Type.FLOAT || c.isOp("[") || c.isOp("{")) {
            if (c.isName("is")) {
                throw error("cannot chain multiple tests with 'is'", c);
            }
            args.add(parsePostfix(parsePrimary()));
        }
        Expr test = new Node.Test(node, name.toString(), args, kwargs);
        return negated ? new Node.Unary("not", test) : test;
    }


    // ---- token helpers ----------------------------------------------------------------------

    Token cur() {
        return tokens.get(p);
    }

    Token peek(int n) {
        return tokens.get(Math.min(p + n, tokens.size() - 1));
    }

    Token expect(Type type, String value) {
        Token t = cur();
        if (t.type() != type || (value != null && !t.value().equals(value))) {
            String want = value != null ? "'" + value + "'" : switch (type) {
                case NAME -> "a name";
                case BLOCK_END -> "'%}'";
                case VAR_END -> "'}}'";
                default -> type.name().toLowerCase(java.util.Locale.ROOT);
            };
            throw error("expected " + want + ", got " + t, t);
        }
        p++;
        return t;
    }

    void expectName(String name) {
        expect(Type.NAME, name);
    }

    void enter(Token t) {
        if (++depth > MAX_DEPTH) {
            throw error("template nesting deeper than " + MAX_DEPTH + " levels", t);
        }
    }

    static TemplateException error(String msg, Token t) {
        return TemplateException.at("syntax error: " + msg, t.line(), t.col());
    }

    void exit() {
        depth--;
    }
}
