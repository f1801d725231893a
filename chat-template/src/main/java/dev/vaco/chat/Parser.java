package dev.vaco.chat;

import dev.vaco.chat.Lexer.Token;
import dev.vaco.chat.Lexer.Type;
import dev.vaco.chat.Node.Expr;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Statement half of the parser: turns the token stream into a list of {@link Node}s, one method
 * per tag ({@code if}, {@code for}, {@code set}, {@code macro}, ...). End tags are matched by name and
 * left for the caller of {@link #parseBody} to consume, as in {@code jinja2.parser.subparse}.
 */
final class Parser extends ExpressionParser {

    private int loopDepth; // break/continue are only valid inside a loop (Jinja checks at parse time)

    private Parser(List<Token> tokens) {
        super(tokens);
    }

    static List<Node> parse(String source) {
        return new Parser(Lexer.tokenize(source)).parseBody(Set.of());
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
                        exit();
                        return nodes;
                    }
                    p++;
                    nodes.add(parseStatement());
                }
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw error("unexpected end of template, expected one of " + new java.util.TreeSet<>(ends), t);
                    }
                    exit();
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
        List<Node> body = parseBody(Set.of("endmacro"));
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
}
