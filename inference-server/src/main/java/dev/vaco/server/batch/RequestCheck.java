package dev.vaco.server.batch;

import dev.vaco.model.ModelConfig;
import dev.vaco.server.sampling.InvalidRequestException;
import dev.vaco.server.sampling.SamplingParams;

/**
 * The checks of a request that depend on the model and the server's state (context length, token ids, pinned version,
 * named adapter), made when it is submitted so that a bad request fails before it waits.
 */
final class RequestCheck {
    private RequestCheck() {}

    /** @throws InvalidRequestException naming the field */
    static void check(GenerationRequest request, ModelConfig config, KvBudget kv, PolicyVersions versions,
                      LoraAdapters adapters) {
        int[] p = request.promptIds();
        SamplingParams sp = request.params();
        if (p == null || p.length == 0) throw new InvalidRequestException("prompt", "prompt must not be empty");
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0 || p[i] >= config.vocabSize()) {
                throw new InvalidRequestException("prompt", "prompt token " + i + " is " + p[i] + ", outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
        int ctx = kv.contextLength();
        if (p.length >= ctx) {
            throw new InvalidRequestException("prompt", "prompt has " + p.length + " tokens; the context is " + ctx
                    + " tokens and at least one must be left for the completion");
        }
        if (p.length + (long) sp.maxTokens() > ctx) {
            throw new InvalidRequestException("max_tokens", "prompt (" + p.length + " tokens) + max_tokens (" + sp.maxTokens()
                    + ") exceed the context of " + ctx + " tokens; max_tokens can be at most " + (ctx - p.length));
        }
        if (request.adapter() != null && !adapters.has(request.adapter())) {
            throw noSuchModel(request.adapter());
        }
        if (request.adapter() != null && request.pinnedVersion() != null) {
            throw new InvalidRequestException("policy_version", "policy_version pins a version of the base model, not of "
                    + "the adapter " + request.adapter());
        }
        int rows = request.pinnedVersion() != null || request.adapter() != null ? kv.pinnedRows() : kv.liveRows();
        if (sp.n() > rows) {
            throw new InvalidRequestException("n", "n must be at most " + rows + " (rows per batch"
                    + (request.pinnedVersion() != null ? " of a pinned version" : "") + "), found " + sp.n());
        }
        if (request.pinnedVersion() != null && versions.isStaged(request.pinnedVersion())) {
            // a staged version has passed no check yet: it may be scored (the canary) but must not sample a token
            throw new InvalidRequestException(409, "policy_version", "policy_version " + request.pinnedVersion()
                    + " is staged, not live: it can be scored (POST /v1/score) but samples nothing until activated");
        }
        if (request.pinnedVersion() != null && !versions.isResident(request.pinnedVersion())) {
            throw new InvalidRequestException("policy_version", "policy_version " + request.pinnedVersion()
                    + " is not resident; resident versions: " + versions.versions());
        }
    }

    /** vLLM's and OpenAI's 404 for a {@code model} the server does not hold. */
    static InvalidRequestException noSuchModel(String name) {
        return new InvalidRequestException(404, "model", "The model `" + name + "` does not exist.");
    }
}
