package dev.vaco.server.http;

import dev.vaco.model.Tokenizer;
import dev.vaco.server.batch.Generation;
import dev.vaco.server.batch.GenerationRequest;
import dev.vaco.server.batch.Sample;
import dev.vaco.server.batch.TokenListener;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.SamplingParams;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * OpenAI-compatible completions and chat completions, streaming (server-sent events) or not.
 *
 * <p>Extensions, as vLLM names them where it has them: {@code top_k}, {@code stop_token_ids}, {@code ignore_eos},
 * {@code return_token_ids} (prompt and completion token ids in the response), {@code chat_template_kwargs}, and
 * vaco's {@code policy_version} (pin a resident version; every choice then reports {@code policy_versions}).
 * Fields OpenAI defines but this server cannot honour (penalties other than 0, {@code logit_bias}, {@code echo},
 * {@code suffix}, tools) are refused rather than ignored.
 */
final class OpenAiApi {
    private static final Set<String> COMMON = Set.of("model", "n", "temperature", "top_p", "top_k", "max_tokens", "stop",
            "stop_token_ids", "seed", "stream", "stream_options", "user", "frequency_penalty", "presence_penalty",
            "return_token_ids", "policy_version", "ignore_eos");
    private static final Set<String> COMPLETION_FIELDS = union(COMMON, Set.of("prompt", "logprobs", "echo"));
    private static final Set<String> CHAT_FIELDS = union(COMMON, Set.of("messages", "logprobs", "top_logprobs",
            "max_completion_tokens", "chat_template_kwargs", "add_generation_prompt"));

    private final InferenceServer server;

    OpenAiApi(InferenceServer server) {
        this.server = server;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> s = new java.util.HashSet<>(a);
        s.addAll(b);
        return Set.copyOf(s);
    }

    /** What both routes read from the common fields. */
    private record Common(SamplingParams params, boolean stream, boolean includeUsage, boolean returnTokenIds, Long pinned,
                          String adapter) {}

    private Common common(JsonFields f, int maxTokensDefault, int topLogprobs) {
        for (String p : new String[] {"frequency_penalty", "presence_penalty"}) {
            if (f.number(p, 0) != 0) throw new InvalidRequestException(p, p + " is not supported; only 0 is accepted");
        }
        int vocab = server.engine().config().vocabSize();
        int maxTokens = f.integer("max_tokens", maxTokensDefault, 1, Integer.MAX_VALUE);
        if (f.has("max_completion_tokens")) maxTokens = f.integer("max_completion_tokens", maxTokens, 1, Integer.MAX_VALUE);
        SamplingParams sp = new SamplingParams(f.integer("n", 1, 1, SamplingParams.MAX_N), f.number("temperature", 1.0),
                f.number("top_p", 1.0), f.integer("top_k", 0, 0, Integer.MAX_VALUE), maxTokens, f.stringOrList("stop"),
                f.intList("stop_token_ids", vocab), f.integer("seed", null), topLogprobs, f.bool("ignore_eos", false));
        JsonObject so = f.object("stream_options");
        boolean includeUsage = so != null && JsonFields.of(so).bool("include_usage", false);
        return new Common(sp, f.bool("stream", false), includeUsage, f.bool("return_token_ids", false),
                f.integer("policy_version", null), server.adapterOf(f));
    }

    // ------------------------------------------------------------------ /v1/completions

    void completions(RoutingContext ctx) {
        Common c;
        Object prompt;
        boolean wantLogprobs;
        try {
            JsonFields f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(COMPLETION_FIELDS);
            if (f.bool("echo", false)) throw new InvalidRequestException("echo", "echo is not supported");
            wantLogprobs = f.has("logprobs");
            int top = f.integer("logprobs", 0, 0, SamplingParams.MAX_TOP_LOGPROBS);
            c = common(f, 16, top);
            prompt = promptOf(f, server.engine().config().vocabSize());
        } catch (RuntimeException e) {
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        final boolean logprobs = wantLogprobs;
        Tokenizer tok = server.engine().tokenizer();
        server.blocking(ctx, () -> prompt instanceof int[] ids ? ids : tok.encode((String) prompt))
                .onSuccess(ids -> run(ctx, ids, c, logprobs, false));
    }

    /** A string, a list of token ids, or a list of one of either (the OpenAI client sends lists). */
    private static Object promptOf(JsonFields f, int vocab) {
        Object p = f.raw().getValue("prompt");
        if (p instanceof String s) return s;
        if (p instanceof JsonArray a) {
            if (a.size() == 1 && (a.getValue(0) instanceof String || a.getValue(0) instanceof JsonArray)) {
                return promptOf(JsonFields.of(new JsonObject().put("prompt", a.getValue(0))), vocab);
            }
            if (!a.isEmpty() && a.getValue(0) instanceof String) {
                throw new InvalidRequestException("prompt", "batched prompts are not supported: send one prompt per request");
            }
            int[] ids = f.intArray("prompt", vocab);
            if (ids.length == 0) throw new InvalidRequestException("prompt", "prompt must not be empty");
            return ids;
        }
        throw new InvalidRequestException("prompt", "prompt must be a string or a list of token ids, found " + JsonFields.kind(p));
    }

    // ------------------------------------------------------------------ /v1/chat/completions

    void chatCompletions(RoutingContext ctx) {
        Common c;
        List<Map<String, Object>> messages;
        Map<String, Object> extra;
        boolean addGenerationPrompt, logprobs;
        try {
            if (server.chatTemplate() == null) {
                throw new InvalidRequestException("messages", "this model's tokenizer_config.json has no chat_template; use /v1/completions");
            }
            JsonFields f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(CHAT_FIELDS);
            logprobs = f.bool("logprobs", false);
            int top = f.integer("top_logprobs", 0, 0, SamplingParams.MAX_TOP_LOGPROBS);
            if (top > 0 && !logprobs) throw new InvalidRequestException("top_logprobs", "top_logprobs needs logprobs: true");
            c = common(f, server.engine().contextLength(), top);
            messages = messagesOf(f);
            JsonObject kw = f.object("chat_template_kwargs");
            extra = kw == null ? new HashMap<>() : new HashMap<>(kw.getMap());
            addGenerationPrompt = f.bool("add_generation_prompt", true);
        } catch (RuntimeException e) {
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        Tokenizer tok = server.engine().tokenizer();
        final boolean lp = logprobs;
        server.blocking(ctx, () -> {
            String rendered = server.chatTemplate().apply(messages, addGenerationPrompt, extra);
            return tok.encodeChat(rendered, messages.stream().map(m -> (String) m.get("content")).toList());
        }).onSuccess(ids -> {
            // max_tokens defaults to what the context leaves, as vLLM does
            Common cc = c;
            if (!ctx.body().asJsonObject().containsKey("max_tokens") && !ctx.body().asJsonObject().containsKey("max_completion_tokens")) {
                SamplingParams p = c.params();
                int left = Math.max(1, server.engine().contextLength() - ids.length);
                cc = new Common(new SamplingParams(p.n(), p.temperature(), p.topP(), p.topK(), left, p.stop(), p.stopTokenIds(),
                        p.seed(), p.topLogprobs(), p.ignoreEos()), c.stream(), c.includeUsage(), c.returnTokenIds(), c.pinned(),
                        c.adapter());
            }
            run(ctx, ids, cc, lp, true);
        });
    }

    private static List<Map<String, Object>> messagesOf(JsonFields f) {
        JsonArray a = f.array("messages");
        if (a == null || a.isEmpty()) throw new InvalidRequestException("messages", "messages must be a non-empty list");
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            String field = "messages[" + i + "]";
            if (!(a.getValue(i) instanceof JsonObject m)) throw new InvalidRequestException(field, field + " must be an object");
            Object role = m.getValue("role");
            if (!(role instanceof String r) || !Set.of("system", "developer", "user", "assistant").contains(r)) {
                throw new InvalidRequestException(field + ".role", field + ".role must be system, user or assistant, found " + role);
            }
            Object content = m.getValue("content");
            String text;
            if (content instanceof String s) text = s;
            else if (content instanceof JsonArray parts) {
                StringBuilder b = new StringBuilder();
                for (Object p : parts) {
                    if (!(p instanceof JsonObject po) || !"text".equals(po.getValue("type")) || !(po.getValue("text") instanceof String t)) {
                        throw new InvalidRequestException(field + ".content", field + ".content parts must be {\"type\": \"text\", \"text\": ...}");
                    }
                    b.append(t);
                }
                text = b.toString();
            } else {
                throw new InvalidRequestException(field + ".content", field + ".content must be a string or a list of text parts");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", r.equals("developer") ? "system" : r);
            msg.put("content", text);
            out.add(msg);
        }
        return out;
    }

    // ------------------------------------------------------------------ shared: run, respond, stream

    private void run(RoutingContext ctx, int[] prompt, Common c, boolean logprobs, boolean chat) {
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        Tokenizer tok = server.engine().tokenizer();
        Context context = ctx.vertx().getOrCreateContext();
        GenerationRequest req = new GenerationRequest(prompt, c.params(), c.pinned(), c.adapter());
        if (!c.stream()) {
            CompletableFuture<Generation> f;
            try {
                f = server.engine().submit(req, null);
            } catch (RuntimeException e) {
                HttpErrors.fail(ctx, e, server.metricsRegistry());
                return;
            }
            ctx.response().closeHandler(v -> f.cancel(false));
            Future.fromCompletionStage(f, context)
                    .onSuccess(g -> ctx.json(whole(id, created, prompt, g, c, logprobs, chat, tok)))
                    .onFailure(t -> HttpErrors.fail(ctx, t, server.metricsRegistry()));
            return;
        }
        HttpServerResponse r = ctx.response();
        StreamListener listener = new StreamListener(r, context, id, created, chat, logprobs, c.returnTokenIds(), tok);
        CompletableFuture<Generation> f;
        try {
            f = server.engine().submit(req, listener);
        } catch (RuntimeException e) {
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        r.setChunked(true).putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-cache");
        r.closeHandler(v -> f.cancel(false));
        if (chat) {
            for (int i = 0; i < c.params().n(); i++) {
                listener.write(listener.chunk(i, new JsonObject().put("role", "assistant").put("content", ""), null, null));
            }
        }
        // Always hop through runOnContext: token chunks were queued there by the decode thread, and the end of the
        // stream must come after them even when the generation finished before this line ran.
        f.whenComplete((g, failure) -> context.runOnContext(v -> {
            if (r.ended() || r.closed()) return;
            if (failure == null && c.includeUsage()) {
                JsonObject last = listener.base().put("choices", new JsonArray()).put("usage", usage(g));
                if (c.returnTokenIds()) last.put("prompt_token_ids", RlApi.ints(prompt));
                listener.write(last);
            }
            if (failure != null) {
                JsonObject err = new JsonObject().put("message", String.valueOf(failure.getMessage())).put("type", "server_error");
                r.write("data: " + new JsonObject().put("error", err).encode() + "\n\n");
            }
            r.end("data: [DONE]\n\n");
        }));
    }

    private JsonObject whole(String id, long created, int[] prompt, Generation g, Common c, boolean logprobs, boolean chat,
                             Tokenizer tok) {
        JsonArray choices = new JsonArray();
        for (Sample s : g.samples()) {
            JsonObject ch = new JsonObject().put("index", s.index());
            if (chat) ch.put("message", new JsonObject().put("role", "assistant").put("content", s.text()));
            else ch.put("text", s.text());
            ch.put("logprobs", logprobs ? (chat ? chatLogprobs(s, 0, s.tokenIds().length, tok) : completionLogprobs(s, tok)) : null);
            ch.put("finish_reason", s.finishReason());
            if (c.returnTokenIds()) ch.put("token_ids", RlApi.ints(s.tokenIds()));
            ch.put("policy_versions", RlApi.longs(s.versions()));
            choices.add(ch);
        }
        JsonObject o = new JsonObject().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
                .put("created", created).put("model", server.modelName()).put("system_fingerprint", "vaco-v" + server.engine().liveVersion())
                .put("choices", choices).put("usage", usage(g));
        if (c.returnTokenIds()) o.put("prompt_token_ids", RlApi.ints(prompt));
        return o;
    }

    private static JsonObject usage(Generation g) {
        return new JsonObject().put("prompt_tokens", g.promptTokens()).put("completion_tokens", g.completionTokens())
                .put("total_tokens", g.promptTokens() + g.completionTokens());
    }

    /** Legacy completions format: parallel arrays, top alternatives as {token: logprob} maps. */
    private static JsonObject completionLogprobs(Sample s, Tokenizer tok) {
        JsonArray tokens = new JsonArray(), lps = new JsonArray(), tops = new JsonArray(), offsets = new JsonArray();
        int offset = 0;
        for (int t = 0; t < s.tokenIds().length; t++) {
            String piece = tok.decode(new int[] {s.tokenIds()[t]}, false);
            tokens.add(piece);
            lps.add((double) s.logprobs()[t]);
            offsets.add(offset);
            offset += piece.length();
            if (s.topIds() != null) {
                JsonObject alt = new JsonObject();
                for (int k = 0; k < s.topIds()[t].length; k++) {
                    alt.put(tok.decode(new int[] {s.topIds()[t][k]}, false), (double) s.topLogprobs()[t][k]);
                }
                tops.add(alt);
            } else {
                tops.addNull();
            }
        }
        return new JsonObject().put("tokens", tokens).put("token_logprobs", lps).put("top_logprobs", tops).put("text_offset", offsets);
    }

    /** Chat format: one object per token with its UTF-8 bytes and its alternatives. */
    static JsonObject chatLogprobs(Sample s, int from, int to, Tokenizer tok) {
        JsonArray content = new JsonArray();
        for (int t = from; t < to; t++) {
            content.add(tokenLogprob(tok, s.tokenIds()[t], s.logprobs()[t], s.topIds() == null ? null : s.topIds()[t],
                    s.topLogprobs() == null ? null : s.topLogprobs()[t]));
        }
        return new JsonObject().put("content", content);
    }

    static JsonObject tokenLogprob(Tokenizer tok, int id, float lp, int[] topIds, float[] topLps) {
        String piece = tok.decode(new int[] {id}, false);
        JsonArray alts = new JsonArray();
        if (topIds != null) {
            for (int k = 0; k < topIds.length; k++) {
                String p = tok.decode(new int[] {topIds[k]}, false);
                alts.add(new JsonObject().put("token", p).put("logprob", (double) topLps[k]).put("bytes", bytes(p)));
            }
        }
        return new JsonObject().put("token", piece).put("logprob", (double) lp).put("bytes", bytes(piece)).put("top_logprobs", alts);
    }

    private static JsonArray bytes(String s) {
        JsonArray a = new JsonArray();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) a.add(b & 0xff);
        return a;
    }

    /** Turns engine events (decode thread) into SSE chunks written on the connection's event loop. */
    private final class StreamListener implements TokenListener {
        private final HttpServerResponse r;
        private final Context context;
        private final String id;
        private final long created;
        private final boolean chat, logprobs, returnTokenIds;
        private final Tokenizer tok;

        StreamListener(HttpServerResponse r, Context context, String id, long created, boolean chat, boolean logprobs,
                       boolean returnTokenIds, Tokenizer tok) {
            this.r = r;
            this.context = context;
            this.id = id;
            this.created = created;
            this.chat = chat;
            this.logprobs = logprobs;
            this.returnTokenIds = returnTokenIds;
            this.tok = tok;
        }

        JsonObject base() {
            return new JsonObject().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
                    .put("created", created).put("model", server.modelName());
        }

        JsonObject chunk(int index, Object delta, String finish, JsonObject extra) {
            JsonObject ch = new JsonObject().put("index", index);
            if (chat) ch.put("delta", delta);
            else ch.put("text", delta);
            ch.put("logprobs", extra == null ? null : extra.getValue("logprobs"));
            ch.put("finish_reason", finish);
            if (extra != null) {
                if (extra.containsKey("token_ids")) ch.put("token_ids", extra.getValue("token_ids"));
                if (extra.containsKey("policy_versions")) ch.put("policy_versions", extra.getValue("policy_versions"));
            }
            return base().put("choices", new JsonArray().add(ch));
        }

        void write(JsonObject o) {
            if (!r.ended() && !r.closed()) r.write("data: " + o.encode() + "\n\n");
        }

        @Override
        public void onToken(int index, int token, float logprob, long version, int[] topIds, float[] topLogprobs, String textDelta) {
            // built on the decode thread (cheap), written on the event loop
            JsonObject extra = new JsonObject().put("policy_versions", new JsonArray().add(version));
            if (returnTokenIds) extra.put("token_ids", new JsonArray().add(token));
            if (logprobs) {
                JsonObject one = tokenLogprob(tok, token, logprob, topIds, topLogprobs);
                if (chat) extra.put("logprobs", new JsonObject().put("content", new JsonArray().add(one)));
                else {
                    JsonObject alt = new JsonObject();
                    for (Object a : one.getJsonArray("top_logprobs")) alt.put(((JsonObject) a).getString("token"), ((JsonObject) a).getDouble("logprob"));
                    extra.put("logprobs", new JsonObject().put("tokens", new JsonArray().add(one.getString("token")))
                            .put("token_logprobs", new JsonArray().add((double) logprob)).put("top_logprobs", new JsonArray().add(alt)));
                }
            }
            Object delta = chat ? new JsonObject().put("content", textDelta) : textDelta;
            JsonObject c = chunk(index, delta, null, extra);
            context.runOnContext(v -> write(c));
        }

        @Override
        public void onFinish(int index, String finishReason, String textDelta) {
            Object delta = chat ? (textDelta.isEmpty() ? new JsonObject() : new JsonObject().put("content", textDelta)) : textDelta;
            JsonObject c = chunk(index, delta, finishReason, null);
            context.runOnContext(v -> write(c));
        }
    }
}
