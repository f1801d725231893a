package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.model.wire.WeightManifest;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import dev.vaco.trainer.pipeline.WeightRelay;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Weight distribution to a fleet on loopback: for N servers, each its own JVM, the trainer's bytes sent per version and
 * the time from "the trainer has the weights" to every server staged, by the chunked relay ({@link WeightRelay}) and
 * by the parallel PUT to every server it replaced, measured in the same run, alternately.
 *
 * <pre>
 * java -cp bench/target/classes:$(cat bench/target/classpath.txt) dev.vaco.bench.FleetBench --model 25m --servers 1,2,4,8 --chunks 4,16,64
 * java -Xmx2g -XX:MaxDirectMemorySize=3g -cp ... dev.vaco.bench.FleetBench --model 0.5b --servers 1,2 --chunks 16,64
 * </pre>
 */
public final class FleetBench {
    static final Path QWEN3_TOKENIZER = Path.of("/work/shared/models/qwen3-tokenizer");

    private FleetBench() {}

    /** A server JVM: {@code serve DIR MAX_WEIGHT_BYTES PREPACK}; prints its port, exits when its stdin closes. */
    private static void serve(String[] args) throws Exception {
        PolicyOptions policy = PolicyOptions.DEFAULT.withThreads(1).withPrepack(Boolean.parseBoolean(args[3]));
        try (Server s = Server.start(Path.of(args[1]), new InferenceServer.Settings("127.0.0.1", 0, "fleet", ServingBench.TOKEN,
                Long.parseLong(args[2])), new EngineOptions(2, 4, 2, policy))) {
            System.out.println("port " + s.port());
            System.out.flush();
            while (System.in.read() >= 0) { /* until the parent goes */ }
        }
    }

    /** Qwen2-0.5B's shape (494M parameters, tied embeddings, bias on q/k/v), random weights. */
    static ModelConfig qwen2Half() {
        return new ModelConfig("qwen2", 151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1000000.0, 512, true, false, -1, 151645,
                ModelConfig.RopeScaling.NONE);
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve(args);
            return;
        }
        List<String> a = List.of(args);
        String model = ServingBench.opt(a, "--model", "25m");
        int[] ns = ints(ServingBench.opt(a, "--servers", "1,2,4,8"));
        int[] chunksMiB = ints(ServingBench.opt(a, "--chunks", "16"));
        int rounds = Integer.parseInt(ServingBench.opt(a, "--rounds", "2"));
        boolean large = model.equals("0.5b");
        // --transport-only: the servers hold the tiny model and refuse the image once received and parsed (400, mis-shaped),
        // so the time is the bytes' journey and parse without a session build: a 0.5B server with live and staged
        // sessions needs ~18 GB here, more than this machine has beside its other work
        boolean transportOnly = a.contains("--transport-only");
        // --no-weight-prepack: the servers' sessions read the weights in place (vaco serve --no-weight-prepack): a 0.5B
        // server then peaks at ~7.5 GB while staging instead of ~11.8 GB, which lets two of them fit here
        boolean prepack = !a.contains("--no-weight-prepack");
        String heap = ServingBench.opt(a, "--server-heap", large ? "3g" : "768m");
        // a server's loaded tensors, its sessions' copies and a staged version's tensors live outside the heap
        String direct = ServingBench.opt(a, "--server-direct", large ? "8g" : "1g");
        ModelConfig c = large ? qwen2Half() : ModelInit.benchConfig25m();
        Path dir = Path.of("/tmp/vaco-fleet-bench", transportOnly ? "tiny" : model);
        if (!Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS))) {
            ModelInit.init(dir, transportOnly ? ModelInit.tinyConfig() : c, 1);
            if (large && !transportOnly) ModelDir.copyTokenizer(QWEN3_TOKENIZER, dir);
        }
        Weights w = ModelInit.random(c, 7);
        long image = Safetensors.imageSize(w.tensors(), Map.of("format", "pt"), Safetensors.DType.F32);
        // the 0.5B image goes through a temporary file on the trainer's side, as images over 2 GB always do: N parallel
        // in-memory pushes would hold N copies
        long inMemory = large ? 256L << 20 : Integer.MAX_VALUE - 8;
        System.out.println("machine: " + BenchMachine.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cpus");
        System.out.printf("model %s: %,d parameters, image %.1f MB; server JVMs -Xmx%s, direct %s, weight prepacking %s; %d rounds%n",
                model, c.parameterCount(), image / 1e6, heap, direct, prepack ? "on" : "off", rounds);
        System.out.println("| N | chunk MiB | relay bytes sent | relay s (min / max) | parallel PUT bytes | PUT s (min / max) | PUT / relay time | fallbacks | load |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        List<Process> procs = new ArrayList<>();
        List<PolicyClient> clients = new ArrayList<>();
        long version = 1;
        try {
            for (int n : ns) {
                while (clients.size() < n) {
                    Process p = startServer(dir, heap, direct, image + (64L << 20), prepack);
                    procs.add(p);
                    clients.add(new PolicyClient(URI.create("http://127.0.0.1:" + port(p)), ServingBench.TOKEN, inMemory));
                }
                List<PolicyClient> fleet = clients.subList(0, n);
                if (transportOnly) {
                    for (int mib : chunksMiB) transportRow(fleet, w, image, mib, rounds);
                    continue;
                }
                // one untimed round each way first: new server JVMs compile their receive and fetch paths
                try (WeightRelay r = new WeightRelay(WeightManifest.DEFAULT_CHUNK)) {
                    r.distribute(fleet, w, version, false);
                }
                dropEverywhere(fleet, version++);
                parallelPut(fleet, w, version);
                dropEverywhere(fleet, version++);
                for (int mib : chunksMiB) version = relayRow(fleet, w, image, mib, rounds, version);
            }
        } finally {
            for (PolicyClient cl : clients) cl.close();
            for (Process p : procs) p.destroy();
        }
    }

    /** One row: {@code rounds} versions each way, relay then parallel PUT; returns the next unused version number. */
    private static long relayRow(List<PolicyClient> fleet, Weights w, long image, int mib, int rounds, long version) throws Exception {
        int n = fleet.size();
        double[] relay = new double[rounds], put = new double[rounds];
        long relayBytes = 0;
        int fallbacks = 0;
        try (WeightRelay r = new WeightRelay(Math.min(mib << 20, WeightManifest.MAX_CHUNK))) {
            for (int i = 0; i < rounds; i++) {
                WeightRelay.Report rep = r.distribute(fleet, w, version, false);
                if (!rep.failed().isEmpty()) throw new IllegalStateException(rep.failed().size() + " servers failed the relay");
                relay[i] = rep.seconds();
                relayBytes = rep.bytesSent();
                fallbacks += rep.fallbacks();
                dropEverywhere(fleet, version++);
                put[i] = parallelPut(fleet, w, version);
                dropEverywhere(fleet, version++);
            }
        }
        Arrays.sort(relay);
        Arrays.sort(put);
        System.out.printf("| %d | %d | %.1f MB | %.2f / %.2f | %.1f MB | %.2f / %.2f | %.2fx | %d | %.1f |%n", n, mib, relayBytes / 1e6,
                relay[0], relay[rounds - 1], n * image / 1e6, put[0], put[rounds - 1], put[0] / relay[0], fallbacks,
                BenchMachine.loadAverage1());
        return version;
    }

    /**
     * The relay's and the parallel PUT's transport to servers that refuse the image after parsing it (another model's
     * shape): the chain as {@link WeightRelay} builds it, each server's 400 being its end; no round is warm-up.
     */
    private static void transportRow(List<PolicyClient> fleet, Weights w, long image, int mib, int rounds) throws Exception {
        double[] relay = new double[rounds], put = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            long t = System.nanoTime();
            try (var img = dev.vaco.model.wire.WeightImage.of(w, fleet.get(0).inMemoryPushMax())) {
                WeightManifest m = img.manifest(1000 + i, mib << 20);
                List<CompletableFuture<Double>> fs = new ArrayList<>();
                for (int k = 0; k < fleet.size(); k++) {
                    int server = k;
                    List<URI> sources = new ArrayList<>();
                    for (int j = k - 1; j >= 0; j--) sources.add(fleet.get(j).base());
                    fs.add(refused(() -> server == 0 ? fleet.get(0).putImage(img, m.version(), false, m)
                            : fleet.get(server).fetchWeights(m, sources, false)));
                }
                fs.forEach(CompletableFuture::join);
            }
            relay[i] = (System.nanoTime() - t) / 1e9;
            t = System.nanoTime();
            List<CompletableFuture<Double>> fs = new ArrayList<>();
            for (PolicyClient c : fleet) fs.add(refused(() -> c.stageWeights(w, 2000)));
            fs.forEach(CompletableFuture::join);
            put[i] = (System.nanoTime() - t) / 1e9;
        }
        Arrays.sort(relay);
        Arrays.sort(put);
        System.out.printf("| %d | %d | %.1f MB | %.2f / %.2f | %.1f MB | %.2f / %.2f | %.2fx | - | %.1f |%n", fleet.size(), mib, image / 1e6,
                relay[0], relay[rounds - 1], fleet.size() * image / 1e6, put[0], put[rounds - 1], put[0] / relay[0], BenchMachine.loadAverage1());
    }

    private interface Push {
        double run() throws Exception;
    }

    /** A push expected to be refused as mis-shaped (400) once its bytes have all arrived; anything else fails the bench. */
    private static CompletableFuture<Double> refused(Push p) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                p.run();
                throw new IllegalStateException("a server of another shape took the image");
            } catch (PolicyClient.ServerException e) {
                if (e.status != 400 || !e.getMessage().contains("shape") && !e.getMessage().contains("missing tensor")) throw e;
                return 0.0;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, r -> new Thread(r, "push").start());
    }

    /** Today's distribution before the relay: every server gets the whole image from the trainer, all at once. */
    private static double parallelPut(List<PolicyClient> fleet, Weights w, long version) {
        long t = System.nanoTime();
        List<CompletableFuture<Double>> fs = new ArrayList<>();
        for (PolicyClient c : fleet) {
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return c.stageWeights(w, version);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, r -> new Thread(r, "put").start()));
        }
        fs.forEach(CompletableFuture::join);
        return (System.nanoTime() - t) / 1e9;
    }

    private static void dropEverywhere(List<PolicyClient> fleet, long version) throws Exception {
        for (PolicyClient c : fleet) c.drop(version);
    }

    private static Process startServer(Path dir, String heap, String direct, long maxWeightBytes, boolean prepack) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + heap, "-XX:MaxDirectMemorySize=" + direct, "-cp", System.getProperty("java.class.path"),
                FleetBench.class.getName(), "serve", dir.toString(), Long.toString(maxWeightBytes), Boolean.toString(prepack))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        return pb.start();
    }

    private static int port(Process p) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) if (line.startsWith("port ")) return Integer.parseInt(line.substring(5).trim());
        throw new IllegalStateException("a server JVM exited before listening (out of memory?): exit " + p.waitFor());
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
