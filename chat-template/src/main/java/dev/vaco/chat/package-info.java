/**
 * A Jinja interpreter for Hugging Face chat templates: {@link dev.vaco.chat.ChatTemplate}
 * compiles the {@code chat_template} of a tokenizer_config.json and renders conversations to
 * exactly the prompt string transformers' {@code apply_chat_template(..., tokenize=False)} makes.
 *
 * <p>Pipeline: {@code Lexer} (text/tags, trim_blocks + lstrip_blocks whitespace rules) →
 * {@code Parser}/{@code ExpressionParser} (AST of {@code Node} records) → {@code Interpreter}
 * (scopes, loops, macros) over Python-semantics values ({@code Values}, {@code Repr},
 * {@code Access}, {@code Methods}, {@code Filters} with its {@code StringFilters},
 * {@code NumberFilters} and {@code SequenceFilters}, {@code PercentFormat}, {@code Tests},
 * {@code Json}). {@code Scoping} adds the one compile-time scoping rule of Jinja that matters for
 * top-level assignments.
 *
 * <p>Behaviour is that of Jinja2 3.1 in transformers' {@code ImmutableSandboxedEnvironment}: list
 * and dict mutators ({@code append}, {@code update}, ...) are unsafe and fail, {@code range()} is
 * capped at 100,000 items, {@code tojson} is {@code json.dumps(ensure_ascii=False)}. Not supported:
 * {@code extends}/{@code block}/{@code include}/{@code import}, {@code *args}/{@code **kwargs} in
 * calls, arbitrary-precision integers (overflow is an error), format specs in {@code str.format},
 * autoescaping (transformers does not enable it).
 */
package dev.vaco.chat;
