package dev.vaco.server.batch;

import java.util.concurrent.CompletableFuture;

/**
 * One request in the engine, from {@link GenerationEngine#submit} until its last sample ends: what the scheduler needs
 * to admit it and to assemble its {@link Generation}. {@code samples}, {@code remaining} and {@code ttft} are set on
 * the decode thread when its rows start.
 */
final class Active {
    final GenerationRequest request;
    final TokenListener listener; // null: not streamed
    final long seed;
    final long submitted = System.nanoTime();
    final CompletableFuture<Generation> future = new CompletableFuture<>();
    Sample[] samples; // [n], filled as samples end
    int remaining;    // samples not yet ended
    double ttft;      // seconds from submit to the first token

    Active(GenerationRequest request, TokenListener listener, long seed) {
        this.request = request;
        this.listener = listener;
        this.seed = seed;
    }
}
