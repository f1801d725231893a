package dev.vaco.model.lora;

import dev.vaco.model.ConfigException;
import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * PEFT's adapter files as another writer makes them: {@code adapter_config.json} with PEFT's full key set and an
 * {@code adapter_model.safetensors} whose header and bytes this test writes by hand (not with vaco's Safetensors), in
 * F32 and BF16 as PEFT saves them. What vaco cannot apply exactly is refused naming the file and the tensor or field.
 */
class AdapterFilesTest {
    @TempDir Path dir;

    // (type, V, H, I, L, NH, KVH, hd, eps, theta, maxPos, tied, attention_bias, bos, eos): q out 16, k/v out 8
    static final ModelConfig MODEL = new ModelConfig("llama", 20, 16, 24, 2, 4, 2, 4, 1e-5, 10000.0, 32,
            true, false, -1, -1);

    /** PEFT's adapter_config.json as {@code save_pretrained} writes it (peft 0.13-style key set). */
    private static String peftConfig(String targets, int r, String extra) {
        return """
                {
                  "alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "Qwen/Qwen2.5-0.5B",
                  "bias": "none", "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true,
                  "layer_replication": null, "layers_pattern": null, "layers_to_transform": null, "loftq_config": {},
                  "lora_alpha": 32, "lora_dropout": 0.05, "megatron_config": null, "megatron_core": "megatron.core",
                  "modules_to_save": null, "peft_type": "LORA", "r": %d, "rank_pattern": {}, "revision": null,
                  "target_modules": %s, "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": false%s
                }""".formatted(r, targets, extra);
    }

    /** name -> (shape, values); written as safetensors by hand: u64 header size, JSON header, raw little-endian data. */
    private static void writeSafetensors(Path file, Map<String, long[]> shapes, Map<String, float[]> values, boolean bf16)
            throws Exception {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (var e : shapes.entrySet()) {
            float[] v = values.get(e.getKey());
            long begin = data.size();
            ByteBuffer b = ByteBuffer.allocate(v.length * (bf16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                if (bf16) b.putShort((short) (Float.floatToIntBits(f) >>> 16));
                else b.putFloat(f);
            }
            data.write(b.array());
            StringBuilder shape = new StringBuilder();
            for (long d : e.getValue()) shape.append(shape.isEmpty() ? "" : ",").append(d);
            header.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(bf16 ? "BF16" : "F32")
                    .append("\",\"shape\":[").append(shape).append("],\"data_offsets\":[").append(begin).append(',')
                    .append(data.size()).append("]}");
        }
        byte[] h = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer size = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(size.array());
        out.write(h);
        out.write(data.toByteArray());
        Files.write(file, out.toByteArray());
    }

    /** PEFT's names for q_proj and v_proj of both layers, values exactly representable in bf16. */
    private void writePeftAdapter(Path d, int r, boolean bf16, String dropName, long[] badShape) throws Exception {
        Files.createDirectories(d);
        Files.writeString(d.resolve(AdapterFiles.CONFIG), peftConfig("[\"v_proj\", \"q_proj\"]", r, ""));
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, float[]> values = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String[] m : new String[][] {{"q_proj", "16"}, {"v_proj", "8"}}) {
                String prefix = "base_model.model.model.layers." + l + ".self_attn." + m[0];
                shapes.put(prefix + ".lora_A.weight", new long[] {r, 16});
                shapes.put(prefix + ".lora_B.weight", new long[] {Long.parseLong(m[1]), r});
            }
        }
        if (dropName != null) shapes.remove(dropName);
        if (badShape != null) shapes.put("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", badShape);
        for (var e : shapes.entrySet()) {
            float[] v = new float[(int) (e.getValue()[0] * e.getValue()[1])];
            for (int i = 0; i < v.length; i++) v[i] = (i % 7 - 3) * 0.125f + e.getKey().length() * 0.5f;
            values.put(e.getKey(), v);
        }
        writeSafetensors(d.resolve(AdapterFiles.WEIGHTS), shapes, values, bf16);
    }

    @Test
    void anAdapterWithPeftsNamesFromAnotherWriterLoads() throws Exception {
        for (boolean bf16 : new boolean[] {false, true}) {
            Path d = dir.resolve(bf16 ? "bf16" : "f32");
            writePeftAdapter(d, 4, bf16, null, null);
            AdapterFiles.Adapter a = AdapterFiles.read(d, MODEL);
            assertThat(a.config().r()).isEqualTo(4);
            assertThat(a.config().alpha()).isEqualTo(32);
            assertThat(a.config().dropout()).isEqualTo(0.05);
            assertThat(a.config().scaling()).isEqualTo(8.0);
            assertThat(a.config().targets()).containsExactly(LoraTarget.Q_PROJ, LoraTarget.V_PROJ);
            assertThat(a.baseModel()).isEqualTo("Qwen/Qwen2.5-0.5B");
            assertThat(a.tensors()).hasSize(8);
            String b1v = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
            assertThat(a.tensors().get(b1v).shape()).containsExactly(8, 4);
            float first = (0 - 3) * 0.125f + b1v.length() * 0.5f;
            assertThat(a.tensors().get(b1v).get(0)).isEqualTo(first);
        }
    }

    @Test
    void missingOrMisShapedTensorsAndUnknownModulesAreRefusedNamingFileAndTensor() throws Exception {
        String a0q = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        Path missing = dir.resolve("missing");
        writePeftAdapter(missing, 4, false, a0q, null);
        assertThatThrownBy(() -> AdapterFiles.read(missing, MODEL)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(missing.resolve(AdapterFiles.WEIGHTS).toString())
                .hasMessageContaining("'" + a0q + "' is missing");

        Path shaped = dir.resolve("shaped");
        writePeftAdapter(shaped, 4, false, null, new long[] {8, 3});
        assertThatThrownBy(() -> AdapterFiles.read(shaped, MODEL)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("v_proj.lora_B.weight' has shape [8, 3], expected [8, 4]");

        Path unknown = dir.resolve("unknown");
        writePeftAdapter(unknown, 4, false, null, null);
        Files.writeString(unknown.resolve(AdapterFiles.CONFIG), peftConfig("[\"q_proj\", \"qkv_proj\"]", 4, ""));
        assertThatThrownBy(() -> AdapterFiles.read(unknown, MODEL)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(unknown.resolve(AdapterFiles.CONFIG).toString())
                .hasMessageContaining("target_modules: expected modules among").hasMessageContaining("'qkv_proj'");

        Path fewer = dir.resolve("fewer"); // the file holds v_proj tensors the config does not target
        writePeftAdapter(fewer, 4, false, null, null);
        Files.writeString(fewer.resolve(AdapterFiles.CONFIG), peftConfig("[\"q_proj\"]", 4, ""));
        assertThatThrownBy(() -> AdapterFiles.read(fewer, MODEL))
                .hasMessageContaining("v_proj.lora_A.weight' belongs to no targeted module");

        Path dora = dir.resolve("dora");
        writePeftAdapter(dora, 4, false, null, null);
        Files.writeString(dora.resolve(AdapterFiles.CONFIG),
                peftConfig("[\"q_proj\", \"v_proj\"]", 4, "").replace("\"use_dora\": false", "\"use_dora\": true"));
        assertThatThrownBy(() -> AdapterFiles.read(dora, MODEL)).hasMessageContaining("use_dora");
    }

    @Test
    void configValuesAreValidatedNamingTheKey() {
        List<String> problems = new ArrayList<>();
        for (Runnable bad : List.<Runnable>of(
                () -> new LoraConfig(-1, 8, 0, "q_proj", false, false),
                () -> new LoraConfig(4, 0, 0, "q_proj", false, false),
                () -> new LoraConfig(4, 8, 1.0, "q_proj", false, false),
                () -> new LoraConfig(4, 8, 0, "q_proj,lm_head", false, false))) {
            try {
                bad.run();
            } catch (ConfigException e) {
                problems.add(e.keyPath());
            }
        }
        assertThat(problems).containsExactly("lora.r", "lora.alpha", "lora.dropout", "lora.target_modules");
        assertThat(LoraConfig.of(16, 32, "all-linear").targets()).hasSize(7);
        assertThat(LoraConfig.of(16, 32, "q_proj").scaling()).isEqualTo(2.0);
        assertThat(new LoraConfig(16, 32, 0, "q_proj", true, false).scaling()).isEqualTo(8.0); // rsLoRA: 32 / sqrt(16)
    }
}
