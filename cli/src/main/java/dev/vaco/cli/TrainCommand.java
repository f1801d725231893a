package dev.vaco.cli;

import dev.vaco.fleet.ClusterNode;
import dev.vaco.fleet.FleetView;
import dev.vaco.fleet.ServerAnnouncement;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.StopRequest;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.pipeline.RlTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Supervised warm start, then RL (VACO by default) with rollouts from inference servers under a staleness "
                + "bound (rollout.max_staleness; 0 = synchronous).")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", description = "YAML or JSON file of overrides (every default is in `vaco train --print-config`).")
    Path configFile;

    @Parameters(paramLabel = "KEY=VALUE", arity = "0..*", description = "Overrides, e.g. objective.name=grpo run.steps=50.")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--server", description = "A running vaco server to sample from; repeat for several (default: one embedded on loopback).")
    List<URI> servers = new ArrayList<>();

    @Option(names = "--weights-token", defaultValue = "${env:VACO_WEIGHTS_TOKEN}", description = "Bearer token of --server.")
    String token;

    @Option(names = "--api-key", defaultValue = "${env:VACO_API_KEY}",
            description = "API key of --server (its --api-key), sent as 'Authorization: Bearer KEY' (default: $VACO_API_KEY).")
    String apiKey;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in run.out_dir.")
    boolean resume;

    @Option(names = "--print-config", description = "Print the resolved configuration and exit.")
    boolean printConfig;

    @Option(names = "--dashboard-port", description = "Serve the run's live page and the trainer's /metrics on this port "
            + "(dashboard.port; 0 = any free port, printed; default: off).")
    Integer dashboardPort;

    @Mixin
    ClusterOptions cluster = new ClusterOptions();

    @Override
    public Integer call() throws Exception {
        overrides.addAll(cluster.overrides()); // the flags are cluster.* keys, validated with the rest
        if (dashboardPort != null) overrides.add("dashboard.port=" + dashboardPort);
        TrainConfig cfg = configFile != null ? ConfigLoader.load(configFile, overrides) : ConfigLoader.load(overrides);
        if (printConfig) {
            System.out.println(ConfigLoader.toJson(cfg));
            return 0;
        }
        Path runDir = Path.of(cfg.run().outDir());
        Path modelDir = cfg.run().model().equals("builtin") ? runDir.resolve("init-model") : Path.of(cfg.run().model());
        if (cfg.run().model().equals("builtin") && !Files.isRegularFile(modelDir.resolve(ModelDir.CONFIG))) {
            ModelInit.initTiny(modelDir, cfg.sft().seedOr(cfg.run().seed()));
        }
        try (GracefulStop ignored = GracefulStop.install()) {
            RlTrainer.Result r = run(cfg, modelDir, servers, token, apiKey, resume);
            if (r.stopped()) return GracefulStop.exitStatus();
            System.out.printf("held-out greedy accuracy: %.1f%% before RL -> %.1f%% after %d steps (%.0f s); model: %s%n",
                    100 * r.accuracyBefore(), 100 * r.accuracyAfter(), r.steps(), r.seconds(), r.finalModel());
            return 0;
        }
    }

    /** {@link #run(TrainConfig, Path, List, String, String, boolean)} against servers without an API key. */
    static RlTrainer.Result run(TrainConfig cfg, Path modelDir, List<URI> servers, String token, boolean resume) throws Exception {
        return run(cfg, modelDir, servers, token, null, resume);
    }

    /**
     * libtorch's threads, set before its engine loads: generation and learning share the cores deliberately. (Left to
     * its default of one per core, a warm start of the tiny model ran 6x slower: its workers spin against the caller.)
     */
    static void learnerThreads(TrainConfig cfg) {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(cfg.pipeline().learnerThreads()));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }

    /** Runs the trainer against {@code servers}, or against one embedded server on loopback when none is given. */
    static RlTrainer.Result run(TrainConfig cfg, Path modelDir, List<URI> servers, String token, String apiKey, boolean resume)
            throws Exception {
        learnerThreads(cfg);
        if (!resume) RlTrainer.refuseEarlierRun(Path.of(cfg.run().outDir())); // before any server starts
        if (cfg.cluster().enabled()) return runInCluster(cfg, modelDir, servers, token, apiKey, resume);
        if (!servers.isEmpty()) {
            if (token == null) throw new IllegalArgumentException("--weights-token (or $VACO_WEIGHTS_TOKEN) is required with --server");
            List<PolicyClient> clients = new ArrayList<>();
            for (URI u : servers) clients.add(new PolicyClient(u, token, apiKey));
            try {
                return new RlTrainer(cfg, modelDir, clients, System.out).run(resume);
            } finally {
                clients.forEach(PolicyClient::close);
            }
        }
        // the embedded default stays one process, never in a cluster
        ModelDir.Loaded m = ModelDir.load(modelDir);
        try (EmbeddedServer e = EmbeddedServer.start(modelDir, m, cfg.run().model(), Math.max(4, cfg.rollout().lag() + 3),
                cfg.pipeline().serverThreads(), cfg.lora().enabled() ? cfg.lora().r() : 0)) {
            System.out.printf("embedded inference server on http://127.0.0.1:%d (%,d parameters)%n", e.server().port(),
                    m.config().parameterCount());
            return new RlTrainer(cfg, modelDir, List.of(e.client()), System.out).run(resume);
        }
    }

    /**
     * Joins the cluster, waits for {@code cluster.min_servers} servers, and runs against the cluster's servers as they
     * come and go ({@code --server} URLs are used as well).
     */
    private static RlTrainer.Result runInCluster(TrainConfig cfg, Path modelDir, List<URI> servers, String token,
                                                 String apiKey, boolean resume) throws Exception {
        if (token == null) throw new IllegalArgumentException("--weights-token (or $VACO_WEIGHTS_TOKEN) is required with --cluster");
        try (ClusterNode node = ClusterNode.join(cfg.cluster()); FleetView fleet = FleetView.open(node)) {
            System.out.printf("cluster %s: member %s at %s:%d; waiting for %d inference server(s)%n", cfg.cluster().name(),
                    node.nodeId(), node.address(), cfg.cluster().port(), cfg.cluster().minServers());
            System.out.println(ClusterOptions.security(node));
            List<ServerAnnouncement> found = fleet.awaitServers(cfg.cluster().minServers(),
                    Duration.ofSeconds(cfg.cluster().serverWaitS()), StopRequest::requested);
            if (found == null) { // SIGTERM while waiting: nothing started, nothing to checkpoint
                return new RlTrainer.Result(Double.NaN, Double.NaN, 0, 0, Path.of(cfg.run().outDir()), null, List.of(), true);
            }
            List<PolicyClient> clients = new ArrayList<>();
            for (URI u : servers) clients.add(new PolicyClient(u, token, apiKey));
            for (ServerAnnouncement a : found) clients.add(new PolicyClient(URI.create(a.url()), token, apiKey));
            try {
                return new RlTrainer(cfg, modelDir, clients, System.out).following(fleet, token, apiKey).run(resume);
            } finally {
                clients.forEach(PolicyClient::close);
            }
        }
    }
}
