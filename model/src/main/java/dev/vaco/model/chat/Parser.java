package dev.vaco.model.chat;

import dev.vaco.model.chat.Lexer.Token;
import dev.vaco.model.chat.Lexer.Type;
import dev.vaco.model.chat.Node.Expr;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser producing {@link Node}s. The grammar and operator precedence follow
 * {@code jinja2.parser.Parser} closely (including its quirks: filters bind tighter than arithmetic,
 * so {@code messages|length - 1} is {@code (messages|length) - 1}; {@code **} is left-associative;
 * {@code x is test arg} takes one bare argument), because templates are written against Jinja.
 */
final class Parser {

    /** Nesting limit for blocks and parenthesised expressions: a clear error instead of a StackOverflowError. */
    private static final int MAX_DEPTH = 200;

    private final List<Token> tokens;
    private int p;
    private int depth;
    private int loopDepth;
    private int macroDepth;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        Parser ps = new Parser(Lexer.tokenize(source));
        List<Node> body = ps.parseBody(Set.of());
        return body;
    }

    // ---- statements -------------------------------------------------------------------------

    /** Parses until EOF (when {@code ends} is empty) or until a block tag named in {@code ends}, which is left unconsumed. */
    private List<Node> parseBody(Set<String> ends) {
        enter(cur());
        List<Node> nodes = new ArrayList<>();
        while (true) {
            Token t = cur();
            switch (t.type()) {
                case TEXT -> {
                    nodes.add(new Node.Text(t.value()));
                    p++;
                }
                case VAR_BEGIN -> {
                    p++;
                    Expr e = parseTuple(true, false, Set.of());
                    expect(Type.VAR_END, null);
                    nodes.add(new Node.Output(e, t.line()));
                }
                case BLOCK_BEGIN -> {
                    Token name = peek(1);
                    if (name.type() == Type.NAME && ends.contains(name.value())) {
                        depth--;
                        return nodes;
                    }
                    p++;
                    nodes.add(parseStatement());
                }
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw error("unexpected end of template, expected one of " + new java.util.TreeSet<>(ends), t);
                    }
                    depth--;
                    return nodes;
                }
                default -> throw error("unexpected " + t, t);
            }
        }
    }

    private Node parseStatement() {
        Token t = cur();
        if (t.type() != Type.NAME) {
            throw error("expected a tag name, got " + t, t);
        }
        p++;
        switch (t.value()) {
            case "if":
                return parseIf(t);
            case "for":
                return parseFor(t);
            case "set":
                return parseSet(t);
            case "macro":
                return parseMacro(t);
            case "call":
                return parseCallBlock(t);
            case "filter": {
                List<Node.FilterCall> filters = parseFilterChain(false);
                blockEnd();
                List<Node> body = parseBody(Set.of("endfilter"));
                endTag("endfilter");
                return new Node.FilterBlock(filters, body, t.line());
            }
            case "with":
                return parseWith(t);
            case "generation": {
                // HF's AssistantTracker extension marks assistant spans; rendering is unaffected.
                blockEnd();
                List<Node> body = parseBody(Set.of("endgeneration"));
                endTag("endgeneration");
                return new Node.Block(body);
            }
            case "break":
            case "continue":
                if (loopDepth == 0) {
                    throw error("'" + t.value() + "' outside of a loop", t);
                }
                blockEnd();
                return t.value().equals("break") ? new Node.Break(t.line()) : new Node.Continue(t.line());
            default:
                throw error("unknown tag '" + t.value() + "'", t);
        }
    }

    private Node parseIf(Token t) {
        List<Expr> conds = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> elseBody = List.of();
        conds.add(parseTuple(false, false, Set.of()));
        blockEnd();
        while (true) {
            bodies.add(parseBody(Set.of("elif", "else", "endif")));
            String which = peek(1).value();
            p += 2;
            if (which.equals("elif")) {
                conds.add(parseTuple(false, false, Set.of()));
                blockEnd();
            } else if (which.equals("else")) {
                blockEnd();
                elseBody = parseBody(Set.of("endif"));
                endTag("endif");
                break;
            } else {
                blockEnd();
                break;
            }
        }
        return new Node.If(conds, bodies, elseBody, t.line());
    }

    private Node parseFor(Token t) {
        Expr target = parseAssignTarget(false);
        expectName("in");
        Expr iter = parseTuple(false, false, Set.of("recursive"));
        Expr filter = null;
        if (cur().isName("if")) {
            p++;
            filter = parseExpression(true);
        }
        boolean recursive = false;
        if (cur().isName("recursive")) {
            p++;
            recursive = true;
        }
        blockEnd();
        loopDepth++;
        List<Node> body = parseBody(Set.of("endfor", "else"));
        loopDepth--;
        List<Node> elseBody = List.of();
        if (peek(1).value().equals("else")) {
            p += 2;
            blockEnd();
            elseBody = parseBody(Set.of("endfor"));
        }
        endTag("endfor");
        return new Node.For(target, iter, filter, body, elseBody, recursive, t.line());
    }

    private Node parseSet(Token t) {
        Expr target = parseAssignTarget(true);
        if (cur().isOp("=")) {
            p++;
            Expr value = parseTuple(true, false, Set.of());
            blockEnd();
            return new Node.Set(target, value, t.line());
        }
        if (!(target instanceof Node.Name n)) {
            throw error("block set needs a plain variable name", t);
        }
        List<Node.FilterCall> filters = cur().isOp("|") ? parseFilterChain(true) : List.of();
        blockEnd();
        List<Node> body = parseBody(Set.of("endset"));
        endTag("endset");
        return new Node.SetBlock(n.name(), filters, body, t.line());
    }

    private Node parseMacro(Token t) {
        String name = expect(Type.NAME, null).value();
        List<Node.Param> params = parseParams();
        blockEnd();
        int savedLoop = loopDepth;
        loopDepth = 0;
        macroDepth++;
        List<Node> body = parseBody(Set.of("endmacro"));
        macroDepth--;
        loopDepth = savedLoop;
        endTag("endmacro");
        return new Node.Macro(name, params, body, t.line());
    }

    private Node parseCallBlock(Token t) {
        List<Node.Param> callerParams = cur().isOp("(") ? parseParams() : List.of();
        Expr call = parseExpression(true);
        if (!(call instanceof Node.Call c)) {
            throw error("expected a macro call after 'call'", t);
        }
        blockEnd();
        List<Node> body = parseBody(Set.of("endcall"));
        endTag("endcall");
        return new Node.CallBlock(c, callerParams, body, t.line());
    }

    private Node parseWith(Token t) {
        List<Expr> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (cur().type() != Type.BLOCK_END) {
            if (!targets.isEmpty()) {
                expect(Type.OP, ",");
            }
            targets.add(parseAssignTarget(false));
            expect(Type.OP, "=");
            values.add(parseExpression(true));
        }
        blockEnd();
        List<Node> body = parseBody(Set.of("endwith"));
        endTag("endwith");
        return new Node.With(targets, values, body, t.line());
    }

    private List<Node.Param> parseParams() {
        expect(Type.OP, "(");
        List<Node.Param> params = new ArrayList<>();
        while (!cur().isOp(")")) {
            if (!params.isEmpty()) {
                expect(Type.OP, ",");
                if (cur().isOp(")")) {
                    break;
                }
            }
            String name = expect(Type.NAME, null).value();
            Expr def = null;
            if (cur().isOp("=")) {
                p++;
                def = parseExpression(true);
            }
            params.add(new Node.Param(name, def));
        }
        p++;
        return params;
    }

    /** A name, a tuple of names ({@code k, v} or {@code (k, v)}), or with {@code allowNs} {@code ns.attr}. */
    private Expr parseAssignTarget(boolean allowNs) {
        if (allowNs && cur().type() == Type.NAME && peek(1).isOp(".")) {
            String ns = cur().value();
            p += 2;
            return new Node.GetAttr(new Node.Name(ns), expect(Type.NAME, null).value());
        }
        boolean paren = cur().isOp("(");
        if (paren) {
            p++;
        }
        List<Expr> names = new ArrayList<>();
        boolean tuple = paren;
        while (true) {
            Token n = expect(Type.NAME, null);
            names.add(new Node.Name(n.value()));
            if (!cur().isOp(",")) {
                break;
            }
            p++;
            tuple = true;
            if (paren && cur().isOp(")")) {
                break;
            }
        }
        if (paren) {
            expect(Type.OP, ")");
        }
        return tuple ? new Node.TupleLit(names) : names.get(0);
    }

    private void blockEnd() {
        expect(Type.BLOCK_END, null);
    }

    private void endTag(String name) {
        p++; // BLOCK_BEGIN, already checked by parseBody
        expectName(name);
        blockEnd();
    }

    // ---- expressions ------------------------------------------------------------------------

    private Expr parseTuple(boolean withCondexpr, boolean explicitParens, Set<String> extraEnd) {
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

    private Expr parseExpression(boolean withCondexpr) {
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

    private Expr parseOr() {
        Expr left = parseAnd();
        while (cur().isName("or")) {
            p++;
            left = new Node.Binary("or", left, parseAnd());
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (cur().isName("and")) {
            p++;
            left = new Node.Binary("and", left, parseNot());
        }
        return left;
    }

    private Expr parseNot() {
        if (cur().isName("not")) {
            Token t = cur();
            p++;
            enter(t);
            Expr e = new Node.Unary("not", parseNot());
            depth--;
            return e;
        }
        return parseCompare();
    }

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private Expr parseCompare() {
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

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (cur().isOp("+") || cur().isOp("-")) {
            String op = cur().value();
            p++;
            left = new Node.Binary(op, left, parseConcat());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMath2();
        while (cur().isOp("~")) {
            p++;
            left = new Node.Binary("~", left, parseMath2());
        }
        return left;
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (cur().isOp("*") || cur().isOp("/") || cur().isOp("//") || cur().isOp("%")) {
            String op = cur().value();
            p++;
            left = new Node.Binary(op, left, parsePow());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (cur().isOp("**")) {
            p++;
            left = new Node.Binary("**", left, parseUnary(true));
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
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
        depth--;
        return node;
    }

    private Expr parsePrimary() {
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

    private Expr parsePostfix(Expr node) {
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

    private Expr parseSubscribed() {
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

    private Node.Call parseCall(Expr fn) {
        List<Expr> args = new ArrayList<>();
        List<Node.Kwarg> kwargs = new ArrayList<>();
        parseCallArgs(args, kwargs);
        return new Node.Call(fn, args, kwargs);
    }

    /** At '(': positional then keyword arguments up to ')'. */
    private void parseCallArgs(List<Expr> args, List<Node.Kwarg> kwargs) {
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

    private Expr parseFilterExpr(Expr node) {
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

    private List<Node.FilterCall> parseFilterChain(boolean leadingPipe) {
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

    private Node.FilterCall parseOneFilter() {
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

    private Expr parseTest(Expr node) {
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

    private Token cur() {
        return tokens.get(p);
    }

    private Token peek(int n) {
        return tokens.get(Math.min(p + n, tokens.size() - 1));
    }

    private Token expect(Type type, String value) {
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

    private void expectName(String name) {
        expect(Type.NAME, name);
    }

    private void enter(Token t) {
        if (++depth > MAX_DEPTH) {
            throw error("template nesting deeper than " + MAX_DEPTH + " levels", t);
        }
    }

    private static TemplateException error(String msg, Token t) {
        return TemplateException.at("syntax error: " + msg, t.line(), t.col());
    }
}
