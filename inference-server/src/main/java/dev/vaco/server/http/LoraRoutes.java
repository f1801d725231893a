package dev.vaco.server.http;

import dev.vaco.model.ModelFormatException;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.server.sampling.InvalidRequestException;
import io.vertx.ext.web.RoutingContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * vLLM's routes for named adapters at run time, on a server with LoRA inputs ({@code --enable-lora}):
 * <pre>
 * POST /v1/load_lora_adapter    {"lora_name": "sql", "lora_path": "/adapters/sql"}  a PEFT directory on the server
 * POST /v1/unload_lora_adapter  {"lora_name": "sql"}
 * </pre>
 * Both answer 200 with vLLM's plain-text message. They read server-side paths and change what is served, so they take
 * the weights token (as {@code PUT /v1/weights}), not the API key; vLLM instead hides them behind
 * {@code VLLM_ALLOW_RUNTIME_LORA_UPDATING}. A loaded name is refused (400, {@code lora_name}), so is the served model's
 * own name; an unknown one to unload is 404. Unloading lets the rows running on the adapter finish on it.
 */
final class LoraRoutes {
    private final InferenceServer server;

    LoraRoutes(InferenceServer server) {
        this.server = server;
    }

    void load(RoutingContext ctx) {
        if (!server.authorized(ctx)) return;
        server.blocking(ctx, () -> {
            JsonFields f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(Set.of("lora_name", "lora_path", "load_inplace"));
            String name = required(f, "lora_name");
            if (name.equals(server.modelName())) {
                throw new InvalidRequestException("lora_name", "lora_name '" + name + "' is the served model's own name");
            }
            if (server.engine().lora().rank() == 0) {
                throw new InvalidRequestException("lora_name", "this server has no LoRA inputs (serve with --enable-lora)");
            }
            Path dir = Path.of(required(f, "lora_path"));
            if (!Files.isDirectory(dir)) throw new InvalidRequestException("lora_path", "no such directory: " + dir);
            AdapterFiles.Adapter a;
            try {
                a = AdapterFiles.read(dir, server.engine().config());
            } catch (ModelFormatException e) {
                throw new InvalidRequestException("lora_path", e.getMessage());
            }
            server.engine().lora().load(name, a.config(), a.tensors());
            return name;
        }).onSuccess(name -> ctx.response().putHeader("content-type", "text/plain; charset=utf-8")
                .end("Success: LoRA adapter '" + name + "' added successfully."));
    }

    void unload(RoutingContext ctx) {
        if (!server.authorized(ctx)) return;
        server.blocking(ctx, () -> {
            JsonFields f = JsonFields.parse(ctx.body().buffer());
            f.allowOnly(Set.of("lora_name", "lora_int_id"));
            String name = required(f, "lora_name");
            if (!server.engine().unloadAdapter(name).get()) {
                throw new InvalidRequestException(404, "lora_name", "The lora adapter '" + name + "' cannot be found.");
            }
            return name;
        }).onSuccess(name -> ctx.response().putHeader("content-type", "text/plain; charset=utf-8")
                .end("Success: LoRA adapter '" + name + "' removed successfully."));
    }

    private static String required(JsonFields f, String field) {
        String v = f.string(field, null);
        if (v == null || v.isBlank()) throw new InvalidRequestException(field, field + " (a non-empty string) is required");
        return v;
    }
}
