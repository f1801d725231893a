package dev.vaco.cli;

import dev.vaco.fleet.ClusterConfig;
import dev.vaco.fleet.ClusterNode;
import dev.vaco.fleet.ServerAnnouncement;
import dev.vaco.fleet.ServerAnnouncer;
import dev.vaco.model.ModelDir;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.engine.Quantization;
import dev.vaco.server.http.InferenceServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over HTTP: OpenAI-compatible routes, the RL /v1/generate route, live weight updates.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model directory.")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--served-model-name", description = "Model id reported by /v1/models (default: the directory name).")
    String name;

    @Option(names = "--weights-token", defaultValue = "${env:VACO_WEIGHTS_TOKEN}",
            description = "Bearer token for PUT /v1/weights (default: $VACO_WEIGHTS_TOKEN, else a random one, printed).")
    String weightsToken;

    @Option(names = "--api-key", defaultValue = "${env:VACO_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on every /v1 route but the weight routes (vLLM's flag; "
                    + "default: $VACO_API_KEY, else open). /health and /metrics stay open.")
    String apiKey;

    @Option(names = "--max-num-seqs", defaultValue = "64", description = "Sequences decoded together (default: ${DEFAULT-VALUE}).")
    int maxRows;

    @Option(names = "--max-queue", defaultValue = "256", description = "Requests waiting before 429 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--keep-versions", defaultValue = "4", description = "Policy versions kept resident for pinned requests (default: ${DEFAULT-VALUE}).")
    int keep;

    @Option(names = "--max-model-len", defaultValue = "" + EngineOptions.DEFAULT_MAX_MODEL_LEN,
            description = "Context length served, prompt + completion (default: ${DEFAULT-VALUE}, at most the model's; "
                    + "0 = the model's). The KV cache is preallocated for --max-num-seqs x this many positions.")
    int maxModelLen;

    @Option(names = "--kv-cache-memory-bytes", defaultValue = "0",
            description = "Memory for KV caches (default: half of the JVM's direct-memory limit); half for the live batch, "
                    + "half for pinned versions. Rows per batch are --max-num-seqs at most, fewer if it holds fewer.")
    long kvCacheBytes;

    @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--no-weight-prepack", description = "Sessions read the weights in place instead of keeping prepacked "
            + "copies: a version costs its weights alone (0.5B: 2.0 GB, not 2.5 GB, and no 2 GB transient while staged), "
            + "for a slower decode (BENCHMARKS.md \"Per-session memory\").")
    boolean noWeightPrepack;

    @Option(names = "--quantization", defaultValue = "none", paramLabel = "none|int8|int4",
            description = "Weight-only quantization of the served policy (vLLM's flag; default: ${DEFAULT-VALUE}): every "
                    + "layer's projections and lm_head as 8- or 4-bit blocks (ONNX Runtime's MatMulNBits), quantized as "
                    + "each version arrives; log-probs are the quantized policy's (README \"Quantized rollouts\").")
    String quantization;

    @Option(names = "--score-fp32", description = "With --quantization: keep an fp32 session of every version beside the "
            + "quantized one, so that /v1/score with \"precision\": \"fp32\" scores in full precision (costs an fp32 "
            + "version's memory and session time per version).")
    boolean scoreFp32;

    @Mixin
    ClusterOptions cluster = new ClusterOptions();

    @Mixin
    LoraServeOptions lora = new LoraServeOptions();

    @Override
    public Integer call() throws Exception {
        ClusterConfig clusterConfig = cluster.config(); // a bad flag fails before the model loads
        boolean generated = weightsToken == null || weightsToken.isBlank();
        if (generated) weightsToken = HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(16));
        String served = name != null ? name : model.toAbsolutePath().normalize().getFileName().toString();
        var adapters = lora.adapters(ModelDir.config(model)); // a bad adapter fails before the model loads
        long max = Math.max(64L << 20, ModelDir.config(model).parameterCount() * 4 + (16L << 20));
        PolicyOptions policy = PolicyOptions.DEFAULT.withThreads(threads).withPrepack(!noWeightPrepack);
        policy = policy.withGraph(policy.graph().withLoraRank(lora.rank()).withQuantization(quantization(lora.rank())));
        Server server = Server.start(model, new InferenceServer.Settings(host, port, served, weightsToken, max).withApiKey(apiKey),
                new EngineOptions(maxRows, queue, keep, policy, maxModelLen, kvCacheBytes));
        LoraServeOptions.serve(server.engine().lora(), adapters);
        var c = server.engine().config();
        System.out.printf("vaco serve: http://%s:%d  model %s (%s, %,d parameters, context %d)  policy version %d%n", host,
                server.port(), served, c.modelType(), c.parameterCount(), server.engine().contextLength(), server.engine().liveVersion());
        var e = server.engine();
        System.out.printf("KV cache: %d rows x %d positions (%.2f GB), pinned versions %d rows each%n", e.liveRows(),
                e.contextLength(), dev.vaco.server.engine.KvCache.bytesPerRow(c, e.contextLength()) * (double) e.liveRows() / 1e9,
                e.pinnedRows());
        if (policy.graph().quantization().enabled()) {
            System.out.printf("quantization: %s weights (block %d, accuracy level %d) in every projection and lm_head%n",
                    policy.graph().quantization().name(), policy.graph().quantization().blockSize(), policy.graph().quantization().accuracyLevel());
        }
        if (lora.rank() > 0) {
            System.out.printf("LoRA: adapter inputs of rank %d; adapters %s%n", lora.rank(), server.engine().lora().names());
        }
        if (generated) System.out.println("weights token (PUT /v1/weights): " + weightsToken);
        if (apiKey != null) System.out.println("API key required on /v1 (--api-key; not printed)");
        Announced announced = clusterConfig.enabled() ? announce(clusterConfig, server, served) : null;
        // SIGTERM / Ctrl-C: close the server here, not in a shutdown hook, where ONNX Runtime's own hook could release
        // its environment under the requests still finishing (see GracefulStop)
        CountDownLatch stopped = new CountDownLatch(1);
        try (GracefulStop ignored = GracefulStop.install(stopped::countDown)) {
            stopped.await();
            System.out.println("vaco serve: shutting down (finishing running requests)");
            if (announced != null) announced.close(); // the trainer stops sending here before the server drains
            server.close();
        }
        return GracefulStop.exitStatus();
    }

    /** {@code --quantization}, checked before the model loads (a bad value: exit 2 naming the flag). */
    private Quantization quantization(int loraRank) {
        Quantization q;
        try {
            q = Quantization.parse(quantization);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--quantization: " + e.getMessage(), e);
        }
        if (q.enabled() && noWeightPrepack) {
            // without prepacking ORT's MatMulNBits dequantizes its whole weight to fp32 at every call
            throw new IllegalArgumentException("--quantization " + q.name() + " needs prepacked weights: drop --no-weight-prepack");
        }
        if (scoreFp32 && !q.enabled()) throw new IllegalArgumentException("--score-fp32 needs --quantization int8 or int4");
        if (scoreFp32 && loraRank > 0) {
            throw new IllegalArgumentException("--score-fp32 is not available with LoRA adapters (--enable-lora, --lora-modules)");
        }
        return q.withFp32Scoring(scoreFp32);
    }

    /** The cluster member and its announcement; closing withdraws the announcement, then leaves. */
    private record Announced(ClusterNode node, ServerAnnouncer announcer) implements AutoCloseable {
        @Override
        public void close() {
            announcer.close();
            node.close();
        }
    }

    /** Joins the cluster and announces this server: its URL, model, capacity and versions, kept current. */
    private Announced announce(ClusterConfig config, Server server, String served) {
        ClusterNode node = ClusterNode.join(config);
        // a server bound to every interface is announced at the address the cluster reaches this member at
        boolean wildcard = host.equals("0.0.0.0") || host.equals("::");
        String url = "http://" + (wildcard ? node.address() : host) + ":" + server.port();
        var e = server.engine();
        ServerAnnouncer a = ServerAnnouncer.start(node, () -> new ServerAnnouncement(node.nodeId(), url, served, maxRows,
                e.liveVersion(), e.residentVersions()));
        System.out.printf("cluster %s: member %s at %s:%d, announced as %s (%d members)%n", config.name(), node.nodeId(),
                node.address(), config.port(), url, node.members().size());
        System.out.println(ClusterOptions.security(node));
        if (url.contains("//127.") && !node.address().startsWith("127.")) {
            System.out.println("warning: this server listens on loopback only; members on other machines cannot reach "
                    + url + " (serve with --host 0.0.0.0 or this machine's address)");
        }
        return new Announced(node, a);
    }
}
