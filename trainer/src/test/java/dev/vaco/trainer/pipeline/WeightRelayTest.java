package dev.vaco.trainer.pipeline;

import dev.vaco.model.ModelDir;
import dev.vaco.server.engine.RandomAdapters;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Safetensors;
import dev.vaco.model.Weights;
import dev.vaco.model.wire.PolicyClient;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.server.engine.GraphOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The trainer's side of the chunked relay against real servers on loopback (full images and adapter images). */
class WeightRelayTest {
    static final int[] PROMPT = {5, 6, 7, 8}, COMPLETION = {9, 10, 11, 12, 13};
    final List<AutoCloseable> open = new ArrayList<>();
    @TempDir Path dir;
    List<PolicyClient> servers;
    Weights w;

    /** Three servers of the tiny model, and new weights for it. */
    @BeforeEach
    void fleet() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelInit.initTiny(model, 1);
        servers = fleet(model, m, 3);
        w = ModelInit.random(m.config(), 99);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) c.close();
    }

    private List<PolicyClient> fleet(Path model, ModelDir.Loaded m, int n) {
        return fleet(model, m, n, PolicyOptions.DEFAULT.withThreads(1));
    }

    private List<PolicyClient> fleet(Path model, ModelDir.Loaded m, int n, PolicyOptions options) {
        List<PolicyClient> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Server s = Server.start(model, m.config(), m.weights(), 0, new InferenceServer.Settings("127.0.0.1", 0, "tiny", "tok", 1L << 30),
                    new EngineOptions(8, 8, 3, options));
            open.add(s);
            PolicyClient c = new PolicyClient(URI.create("http://127.0.0.1:" + s.port()), "tok");
            open.add(c);
            out.add(c);
        }
        return out;
    }

    private static long imageBytes(Weights w) {
        return Safetensors.imageSize(w.tensors(), Map.of("format", "pt"), Safetensors.DType.F32);
    }

    @Test
    void threeServersStageTheSameWeightsWhileTheTrainerSendsOneImage() throws Exception {
        try (WeightRelay relay = new WeightRelay(1 << 20)) { // the 6.6 MB image in 7 chunks
            WeightRelay.Report r = relay.distribute(servers, w, 1, false);
            assertThat(r.failed()).isEmpty();
            assertThat(r.fallbacks()).isZero();
            assertThat(r.bytesSent()).as("one image, not three").isEqualTo(imageBytes(w));
            float[] first = servers.get(0).score(PROMPT, COMPLETION, 1.0, 1L).join();
            for (PolicyClient s : servers) {
                assertThat(s.versions().staged()).containsExactly(1L);
                assertThat(s.score(PROMPT, COMPLETION, 1.0, 1L).join()).containsExactly(first);
            }
            // one server: the plain PUT of before
            WeightRelay.Report one = relay.distribute(servers.subList(0, 1), w, 2, false);
            assertThat(one.bytesSent()).isEqualTo(imageBytes(w));
            assertThat(servers.get(0).versions().staged()).containsExactly(1L, 2L);
        }
    }

    @Test
    void anAdapterImageGoesThroughTheChainToServersWithLoraInputs() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelDir.load(model);
        List<PolicyClient> lora = fleet(model, m, 3, PolicyOptions.DEFAULT.withThreads(1)
                .withGraph(GraphOptions.DEFAULT.withLoraRank(8)));
        LoraConfig c = new LoraConfig(4, 4, 0.0, LoraConfig.ALL_LINEAR, false, false); // alpha = r: B carries the scaling
        Weights adapter = Weights.ofAdapter(RandomAdapters.of(m.config(), c, 3));
        float[] base = lora.get(0).score(PROMPT, COMPLETION, 1.0, 0L).join();
        try (WeightRelay relay = new WeightRelay(64 << 10)) { // the 0.2 MB adapter image in 4 chunks
            WeightRelay.Report r = relay.distribute(lora, adapter, 1, false);
            assertThat(r.failed()).isEmpty();
            assertThat(r.fallbacks()).as("the peers relayed it").isZero();
            assertThat(r.bytesSent()).isEqualTo(imageBytes(adapter)).isLessThan(imageBytes(w) / 20);
            float[] first = lora.get(0).score(PROMPT, COMPLETION, 1.0, 1L).join();
            assertThat(first).isNotEqualTo(base);
            for (PolicyClient s : lora) {
                assertThat(s.maxLoraRank()).isEqualTo(8);
                assertThat(s.versions().staged()).containsExactly(1L);
                assertThat(s.score(PROMPT, COMPLETION, 1.0, 1L).join()).containsExactly(first);
            }
        }
        assertThat(servers.get(0).maxLoraRank()).as("a server without LoRA inputs says so").isZero();
    }

    @Test
    void aServerWhosePeersCannotServeItGetsTheImageDirectlyAndItIsCounted() throws Exception {
        servers.get(0).pushWeights(w, 5); // the head is past version 1 already: it refuses (409), nobody can fetch from it
        try (WeightRelay relay = new WeightRelay(1 << 20)) {
            WeightRelay.Report r = relay.distribute(servers, w, 1, false);
            assertThat(r.failed()).containsExactly(servers.get(0));
            assertThat(r.fallbacks()).isBetween(1, 2);
            assertThat(r.bytesSent()).isEqualTo((1 + r.fallbacks()) * imageBytes(w));
            assertThat(servers.get(1).versions().staged()).containsExactly(1L);
            assertThat(servers.get(2).versions().staged()).containsExactly(1L);
            assertThat(r.seconds()).as("refusals travel at once, nobody waits out a long poll").isLessThan(60); // under one long poll
        }
    }
}
