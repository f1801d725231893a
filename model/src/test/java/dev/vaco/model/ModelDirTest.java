package dev.vaco.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelDirTest {
    @TempDir Path dir;

    @Test
    void tinyModelRoundTripsThroughItsDirectory() throws IOException {
        ModelDir.Loaded made = ModelInit.initTiny(dir, 7);
        ModelDir.Loaded back = ModelDir.load(dir);
        assertThat(back.config()).isEqualTo(made.config());
        assertThat(back.weights().names()).containsExactlyElementsOf(made.weights().names());
        for (String n : made.weights().names()) {
            assertThat(back.weights().get(n).toArray()).as(n).containsExactly(made.weights().get(n).toArray());
        }
        long params = made.config().parameterCount();
        assertThat(params).isBetween(1_000_000L, 5_000_000L);
        assertThat(ModelInit.benchConfig25m().parameterCount()).isBetween(20_000_000L, 30_000_000L);
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        ModelConfig c = ModelInit.tinyConfig();
        String n = "model.layers.1.mlp.up_proj.weight";
        assertThat(ModelInit.random(c, 5).get(n).toArray()).containsExactly(ModelInit.random(c, 5).get(n).toArray());
        assertThat(ModelInit.random(c, 5).get(n).get(0)).isNotEqualTo(ModelInit.random(c, 6).get(n).get(0));
    }

    @Test
    void shardedCheckpointLoads() throws IOException {
        ModelConfig c = ModelInit.tinyConfig();
        Weights w = ModelInit.random(c, 1);
        c.write(dir.resolve(ModelDir.CONFIG));
        List<Tensor> first = new ArrayList<>(), second = new ArrayList<>();
        Map<String, String> map = new LinkedHashMap<>();
        int i = 0;
        for (Tensor t : w.tensors()) {
            String shard = (i++ % 2 == 0) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            (shard.contains("00001-") ? first : second).add(t);
            map.put(t.name(), shard);
        }
        Safetensors.write(dir.resolve("model-00001-of-00002.safetensors"), first);
        Safetensors.write(dir.resolve("model-00002-of-00002.safetensors"), second);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        json.putObject("metadata").put("total_size", 4 * w.parameterCount());
        var wm = json.putObject("weight_map");
        map.forEach(wm::put);
        Files.writeString(dir.resolve(ModelDir.INDEX), json.toString());
        Weights back = ModelDir.load(dir).weights();
        assertThat(back.get("model.norm.weight").toArray()).containsExactly(w.get("model.norm.weight").toArray());
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> ModelDir.load(dir)).hasMessageContaining("model-00002-of-00002.safetensors is missing");
    }

    @Test
    void wrongShapeNamesFileTensorExpectedAndFound() throws IOException {
        ModelConfig c = ModelInit.tinyConfig();
        Weights w = ModelInit.random(c, 1);
        c.write(dir.resolve(ModelDir.CONFIG));
        List<Tensor> ts = new ArrayList<>();
        for (Tensor t : w.tensors()) {
            ts.add(t.name().equals("model.layers.2.self_attn.k_proj.weight") ? Tensor.zeros(t.name(), 32, 192) : t);
        }
        Safetensors.write(dir.resolve(ModelDir.WEIGHTS), ts);
        assertThatThrownBy(() -> ModelDir.load(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("model.layers.2.self_attn.k_proj.weight")
                .hasMessageContaining("[32, 192]").hasMessageContaining("expected [64, 192]");
    }

    @Test
    void missingTensorAndUnknownTensorAreRefused() throws IOException {
        ModelConfig c = ModelInit.tinyConfig();
        Map<String, Tensor> m = new LinkedHashMap<>(ModelInit.random(c, 1).asMap());
        m.remove("model.norm.weight");
        assertThatThrownBy(() -> Weights.validated(c, m, "f")).hasMessageContaining("missing tensor 'model.norm.weight'");
        m.put("model.norm.weight", Tensor.zeros("model.norm.weight", 192));
        m.put("model.layers.0.self_attn.q_norm.weight", Tensor.zeros("model.layers.0.self_attn.q_norm.weight", 32));
        assertThatThrownBy(() -> Weights.validated(c, m, "f")).hasMessageContaining("unexpected tensor")
                .hasMessageContaining("q_norm");
    }

    @Test
    void badConfigsFailNamingFileAndField() throws IOException {
        Path cfg = dir.resolve(ModelDir.CONFIG);
        Files.writeString(cfg, "{\"model_type\": \"mamba\"}");
        assertThatThrownBy(() -> ModelDir.config(dir)).hasMessageContaining("config.json")
                .hasMessageContaining("unknown model_type 'mamba'").hasMessageContaining("llama");
        var json = ModelInit.tinyConfig().toJson();
        json.put("num_key_value_heads", 4);
        Files.writeString(cfg, json.toString());
        assertThatThrownBy(() -> ModelDir.config(dir)).hasMessageContaining("num_key_value_heads must divide");
        json = ModelInit.tinyConfig().toJson();
        json.put("hidden_size", "big");
        Files.writeString(cfg, json.toString());
        assertThatThrownBy(() -> ModelDir.config(dir)).hasMessageContaining("'hidden_size' must be an integer");
        Files.writeString(cfg, "{not json");
        assertThatThrownBy(() -> ModelDir.config(dir)).hasMessageContaining("config.json");
        Files.delete(cfg);
        assertThatThrownBy(() -> ModelDir.load(dir)).hasMessageContaining("config.json: missing");
    }

    @Test
    void qwen2HasQkvBiasWithoutOutputBias() {
        ModelConfig q = new ModelConfig("qwen2", 64, 32, 48, 1, 4, 2, 8, 1e-6, 1e6, 64, false, false, -1, -1);
        assertThat(q.tensorShapes()).containsKey("model.layers.0.self_attn.k_proj.bias")
                .doesNotContainKey("model.layers.0.self_attn.o_proj.bias").containsKey("lm_head.weight");
    }

    @Test
    void headDimDefaultsToHiddenOverHeads() throws IOException {
        var json = ModelInit.tinyConfig().toJson();
        json.remove("head_dim");
        Files.writeString(dir.resolve(ModelDir.CONFIG), json.toString());
        assertThat(ModelDir.config(dir).headDim()).isEqualTo(32);
    }

    @Test
    void llama3RopeScalingIsReadAndUnsupportedScalingsAreRefused() throws IOException {
        // Llama 3.2's attention shape and rope_scaling, at a small width
        var json = new ModelConfig("llama", 128, 256, 512, 1, 4, 1, 64, 1e-5, 500000.0, 1024, true, false, -1, 1).toJson();
        json.putObject("rope_scaling").put("factor", 32.0).put("high_freq_factor", 4.0).put("low_freq_factor", 1.0)
                .put("original_max_position_embeddings", 8192).put("rope_type", "llama3");
        Path cfg = dir.resolve(ModelDir.CONFIG);
        Files.writeString(cfg, json.toPrettyString());
        ModelConfig c = ModelConfig.read(cfg);
        assertThat(c.ropeScaling()).isEqualTo(new ModelConfig.RopeScaling("llama3", 32, 1, 4, 8192));
        float[] scaled = c.ropeInverseFrequencies();
        float[] plain = new ModelConfig("llama", 128, 256, 512, 1, 4, 1, 64, 1e-5, 500000.0, 1024, true, false, -1, 1)
                .ropeInverseFrequencies();
        int kept = 0, divided = 0, between = 0;
        for (int i = 0; i < plain.length; i++) {
            double wavelen = 2 * Math.PI / plain[i];
            if (wavelen < 8192 / 4.0) {
                assertThat(scaled[i]).as("high frequency %d kept", i).isEqualTo(plain[i]);
                kept++;
            } else if (wavelen > 8192 / 1.0) {
                assertThat((double) scaled[i]).as("low frequency %d / factor", i).isCloseTo(plain[i] / 32.0, org.assertj.core.data.Percentage.withPercentage(1e-4));
                divided++;
            } else {
                assertThat(scaled[i]).as("medium frequency %d interpolated", i).isLessThan(plain[i]).isGreaterThan(plain[i] / 32);
                between++;
            }
        }
        assertThat(kept).isPositive();
        assertThat(divided).isPositive();
        assertThat(between).isPositive();
        c.write(dir.resolve("again.json"));
        assertThat(ModelConfig.read(dir.resolve("again.json"))).isEqualTo(c);

        json.putObject("rope_scaling").put("type", "linear").put("factor", 2.0); // the older key
        Files.writeString(cfg, json.toPrettyString());
        assertThat(ModelConfig.read(cfg).ropeScaling()).isEqualTo(new ModelConfig.RopeScaling("linear", 2, 0, 0, 0));
        json.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        Files.writeString(cfg, json.toPrettyString());
        assertThatThrownBy(() -> ModelConfig.read(cfg)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(cfg.toString()).hasMessageContaining("rope_scaling type 'yarn' is not supported");
        json.putNull("rope_scaling");
        Files.writeString(cfg, json.put("hidden_act", "gelu").toPrettyString());
        assertThatThrownBy(() -> ModelConfig.read(cfg)).hasMessageContaining("hidden_act 'gelu' is not supported");
        Files.writeString(cfg, json.put("hidden_act", "silu").put("use_sliding_window", true).toPrettyString());
        assertThatThrownBy(() -> ModelConfig.read(cfg)).hasMessageContaining("use_sliding_window");
        Files.writeString(cfg, json.put("use_sliding_window", false).toPrettyString());
        assertThat(ModelConfig.read(cfg).ropeScaling()).isEqualTo(ModelConfig.RopeScaling.NONE);
    }
}
