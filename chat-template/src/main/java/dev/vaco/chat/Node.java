package dev.vaco.chat;

import java.util.List;

/**
 * The template AST. Statements carry the source line so runtime errors can point at the template;
 * expressions are evaluated by {@link Interpreter#eval}.
 */
sealed interface Node {

    // ---- statements -------------------------------------------------------------------------

    /** Literal text, emitted verbatim (whitespace rules were already applied by the lexer). */
    record Text(String text) implements Node { }

    /** {@code {{ expr }}}. */
    record Output(Expr expr, int line) implements Node { }

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> elseBody, int line) implements Node { }

    record For(Expr target, Expr iter, Expr filter, List<Node> body, List<Node> elseBody, boolean recursive, int line)
            implements Node { }

    /** {@code {% set target = value %}}; target is a Name, a tuple of Names, or {@code ns.attr}. */
    record Set(Expr target, Expr value, int line) implements Node { }

    /** {@code {% set x %}...{% endset %}}, optionally piped through filters ({@code set x | upper}). */
    record SetBlock(String name, List<FilterCall> filters, List<Node> body, int line) implements Node { }

    record Macro(String name, List<Param> params, List<Node> body, int line) implements Node { }

    /** {@code {% call(params) macro(args) %}body{% endcall %}}: body is exposed to the macro as {@code caller()}. */
    record CallBlock(Call call, List<Param> callerParams, List<Node> body, int line) implements Node { }

    record FilterBlock(List<FilterCall> filters, List<Node> body, int line) implements Node { }

    /** {@code {% with a = 1 %}...{% endwith %}}: a nested scope. */
    record With(List<Expr> targets, List<Expr> values, List<Node> body, int line) implements Node { }

    /** HF's {@code {% generation %}} block: renders its body in a nested scope, like a call block. */
    record Block(List<Node> body) implements Node { }

    record Break(int line) implements Node { }

    record Continue(int line) implements Node { }

    // ---- expressions ------------------------------------------------------------------------

    sealed interface Expr extends Node { }

    record Const(Object value) implements Expr { }

    record Name(String name) implements Expr { }

    record ListLit(List<Expr> items) implements Expr { }

    record TupleLit(List<Expr> items) implements Expr { }

    record DictLit(List<Expr> keys, List<Expr> values) implements Expr { }

    record GetAttr(Expr obj, String name) implements Expr { }

    record GetItem(Expr obj, Expr key) implements Expr { }

    /** Only valid as the key of a {@link GetItem}; any part may be null. */
    record Slice(Expr start, Expr stop, Expr step) implements Expr { }

    record Call(Expr fn, List<Expr> args, List<Kwarg> kwargs) implements Expr { }

    record Filter(Expr target, FilterCall filter) implements Expr { }

    record Test(Expr target, String name, List<Expr> args, List<Kwarg> kwargs) implements Expr { }

    /** Unary {@code not}, {@code -}, {@code +}. */
    record Unary(String op, Expr operand) implements Expr { }

    /** Arithmetic, {@code ~}, and short-circuit {@code and}/{@code or}. */
    record Binary(String op, Expr left, Expr right) implements Expr { }

    /** {@code a < b <= c} chains: ops are {@code == != < <= > >= in notin}. */
    record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr { }

    /** {@code then if cond else otherwise}; otherwise may be null (yields undefined). */
    record CondExpr(Expr cond, Expr then, Expr otherwise) implements Expr { }

    // ---- helpers ----------------------------------------------------------------------------

    record Kwarg(String name, Expr value) { }

    record FilterCall(String name, List<Expr> args, List<Kwarg> kwargs) { }

    /** Macro parameter; defaultValue null when required. */
    record Param(String name, Expr defaultValue) { }
}
