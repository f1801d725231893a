package dev.vaco.server.http;

import dev.vaco.server.batch.Generation;
import dev.vaco.server.batch.GenerationRequest;
import dev.vaco.server.batch.Sample;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.SamplingParams;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.UUID;

/**
 * The token-level RL endpoints. {@code POST /v1/generate} is what a trainer calls: token ids in or out, and for every
 * sampled token its behaviour log-prob (after temperature, before top-k/top-p truncation) and the policy version that
 * sampled it. Unknown fields are refused: a trainer that misspells {@code temperature} must not silently sample at 1.
 */
final class RlApi {
    static final Set<String> GENERATE_FIELDS = Set.of("model", "prompt", "prompt_token_ids", "n", "temperature", "top_p",
            "top_k", "max_tokens", "stop", "stop_token_ids", "seed", "policy_version", "top_logprobs", "ignore_eos");
    static final Set<String> SCORE_FIELDS = Set.of("model", "prompt_token_ids", "completion_token_ids", "temperature",
            "policy_version", "precision");

    private final InferenceServer server;

    RlApi(InferenceServer server) {
        this.server = server;
    }

    void generate(RoutingContext ctx) {
        JsonFields f;
        SamplingParams sp;
        Long pinned;
        int[] ids;
        String text, adapter;
        try {
            f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(GENERATE_FIELDS);
            int vocab = server.engine().config().vocabSize();
            sp = new SamplingParams(f.integer("n", 1, 1, SamplingParams.MAX_N), f.number("temperature", 1.0),
                    f.number("top_p", 1.0), f.integer("top_k", 0, 0, Integer.MAX_VALUE),
                    f.integer("max_tokens", 256, 1, Integer.MAX_VALUE), f.stringOrList("stop"), f.intList("stop_token_ids", vocab),
                    f.integer("seed", null), f.integer("top_logprobs", 0, 0, SamplingParams.MAX_TOP_LOGPROBS),
                    f.bool("ignore_eos", false));
            pinned = f.integer("policy_version", null);
            adapter = server.adapterOf(f);
            ids = f.intArray("prompt_token_ids", vocab);
            text = f.string("prompt", null);
            if ((ids == null) == (text == null)) {
                throw new InvalidRequestException("prompt", "give exactly one of 'prompt' (text) and 'prompt_token_ids'");
            }
        } catch (RuntimeException e) {
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        final int[] given = ids;
        final String promptText = text;
        // Text prompts are tokenised as they are (special-token text included): send prompt_token_ids for exact control.
        server.blocking(ctx, () -> given != null ? given : server.engine().tokenizer().encode(promptText))
                .compose(prompt -> io.vertx.core.Future.fromCompletionStage(
                        server.engine().submit(new GenerationRequest(prompt, sp, pinned, adapter), null), ctx.vertx().getOrCreateContext())
                        .map(g -> response(prompt, g)))
                .onSuccess(ctx::json)
                .onFailure(t -> HttpErrors.fail(ctx, t, server.metricsRegistry()));
    }

    private JsonObject response(int[] prompt, Generation g) {
        JsonArray samples = new JsonArray();
        for (Sample s : g.samples()) {
            JsonObject o = new JsonObject().put("index", s.index()).put("token_ids", ints(s.tokenIds())).put("text", s.text())
                    .put("logprobs", floats(s.logprobs())).put("policy_versions", longs(s.versions()))
                    .put("finish_reason", s.finishReason());
            if (s.topIds() != null) {
                JsonArray tops = new JsonArray();
                for (int t = 0; t < s.topIds().length; t++) {
                    JsonArray alt = new JsonArray();
                    for (int k = 0; k < s.topIds()[t].length; k++) {
                        alt.add(new JsonObject().put("id", s.topIds()[t][k]).put("logprob", s.topLogprobs()[t][k]));
                    }
                    tops.add(alt);
                }
                o.put("top_logprobs", tops);
            }
            samples.add(o);
        }
        return new JsonObject().put("id", "gen-" + UUID.randomUUID()).put("model", server.modelName())
                .put("seed", g.seed()).put("prompt_token_ids", ints(prompt)).put("samples", samples)
                .put("usage", new JsonObject().put("prompt_tokens", g.promptTokens())
                        .put("completion_tokens", g.completionTokens())
                        .put("total_tokens", g.promptTokens() + g.completionTokens()))
                .put("timing", new JsonObject().put("time_to_first_token_s", g.timeToFirstTokenSeconds())
                        .put("total_s", g.totalSeconds()));
    }

    void score(RoutingContext ctx) {
        int[] prompt, completion;
        double temperature;
        Long version;
        String adapter;
        boolean fp32;
        try {
            JsonFields f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(SCORE_FIELDS);
            int vocab = server.engine().config().vocabSize();
            prompt = f.intArray("prompt_token_ids", vocab);
            completion = f.intArray("completion_token_ids", vocab);
            if (prompt == null || prompt.length == 0) throw new InvalidRequestException("prompt_token_ids", "prompt_token_ids is required and non-empty");
            if (completion == null || completion.length == 0) throw new InvalidRequestException("completion_token_ids", "completion_token_ids is required and non-empty");
            temperature = f.number("temperature", 1.0);
            if (temperature < 0) throw new InvalidRequestException("temperature", "temperature must be >= 0, found " + temperature);
            version = f.integer("policy_version", null);
            adapter = server.adapterOf(f);
            fp32 = fullPrecision(f.string("precision", "served"));
        } catch (RuntimeException e) {
            HttpErrors.fail(ctx, e, server.metricsRegistry());
            return;
        }
        long v = version != null ? version : server.engine().liveVersion();
        io.vertx.core.Future.fromCompletionStage(server.engine().score(prompt, completion, temperature, v, adapter, fp32), ctx.vertx().getOrCreateContext())
                .onSuccess(lp -> ctx.json(new JsonObject().put("policy_version", v).put("logprobs", floats(lp))))
                .onFailure(t -> HttpErrors.fail(ctx, t, server.metricsRegistry()));
    }

    /**
     * {@code precision}: {@code served} (default), the policy that samples; {@code fp32}, the version's fp32 session on
     * a server started with {@code --quantization} and {@code --score-fp32}.
     */
    private boolean fullPrecision(String precision) {
        if (precision.equals("served")) return false;
        if (!precision.equals("fp32")) {
            throw new InvalidRequestException("precision", "precision must be 'served' or 'fp32', found '" + precision + "'");
        }
        if (!server.engine().quantization().fp32Scoring()) {
            throw new InvalidRequestException("precision", "precision fp32 needs a server started with --quantization and "
                    + "--score-fp32 (this one scores with the policy it samples, already "
                    + (server.engine().quantization().enabled() ? "quantized" : "fp32") + ")");
        }
        return true;
    }

    static JsonArray ints(int[] a) {
        JsonArray j = new JsonArray();
        for (int x : a) j.add(x);
        return j;
    }

    static JsonArray longs(long[] a) {
        JsonArray j = new JsonArray();
        for (long x : a) j.add(x);
        return j;
    }

    static JsonArray floats(float[] a) {
        JsonArray j = new JsonArray();
        for (float x : a) j.add((double) x);
        return j;
    }
}
