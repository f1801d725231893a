package dev.vaco.cli;

import dev.vaco.model.ModelDir;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.experiment.LagSweep;

import java.net.URI;
import java.nio.file.Path;
import java.util.UUID;

/**
 * An inference server in this process on a loopback port, with its client: what {@code vaco train}, the demo and
 * the experiments train against when no {@code --server} is given (real HTTP, a fresh weights token per server).
 */
record EmbeddedServer(Server server, PolicyClient client) implements LagSweep.ServerHandle {
    /**
     * @param keepVersions policy versions kept resident (pinned lag needs the last k + 1)
     * @param threads      ONNX Runtime threads
     */
    static EmbeddedServer start(Path modelDir, ModelDir.Loaded m, String name, int keepVersions, int threads) {
        return start(modelDir, m, name, keepVersions, threads, 0);
    }

    /** @param loraRank LoRA inputs of this rank (a LoRA run's: its pushes are then the adapter alone); 0 = none */
    static EmbeddedServer start(Path modelDir, ModelDir.Loaded m, String name, int keepVersions, int threads, int loraRank) {
        String token = UUID.randomUUID().toString();
        PolicyOptions policy = PolicyOptions.DEFAULT.withThreads(threads);
        Server s = Server.start(modelDir, m.config(), m.weights(), 0, new InferenceServer.Settings("127.0.0.1", 0, name, token, 1L << 31),
                new EngineOptions(128, 4096, keepVersions, policy.withGraph(policy.graph().withLoraRank(loraRank)),
                        EngineOptions.DEFAULT_MAX_MODEL_LEN));
        return new EmbeddedServer(s, new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), token));
    }

    @Override
    public void close() {
        client.close();
        server.close();
    }
}
