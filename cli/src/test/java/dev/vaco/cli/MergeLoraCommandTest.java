package dev.vaco.cli;

import ai.djl.ndarray.NDManager;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.learner.policy.Engines;
import dev.vaco.learner.policy.TorchPolicy;
import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vaco merge-lora}: base + PEFT adapter -> a full model directory whose log-probs are those of base + adapter
 * ({@code vaco eval --model BASE --adapter DIR} evaluates the same merge);
 * bad input exits with 2 and one line naming the flag or file. And the {@code lora.*} keys of {@code vaco train}.
 */
class MergeLoraCommandTest {
    @TempDir Path dir;

    /** Runs {@code vaco ARGS}: {exit code, stderr}. */
    /** Runs the command and checks it exits with 2 printing exactly {@code line} on stderr. */
    static void assertExit2(String line, String... args) {
        String[] r = run(args);
        assertThat(r[0]).as(r[1]).isEqualTo("2");
        assertThat(r[1].strip()).isEqualTo(line);
    }

    static String[] run(String... args) {
        StringWriter err = new StringWriter();
        var cl = VacoCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        PrintStream old = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
        try {
            int rc = cl.execute(args);
            return new String[] {Integer.toString(rc), err.toString()};
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void mergedModelGivesTheLogProbsOfBasePlusAdapter() throws Exception {
        Path model = dir.resolve("model"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        ModelDir.Loaded base = ModelInit.initTiny(model, 1);
        LoraConfig lora = new LoraConfig(4, 8, 0.0, "q_proj,k_proj,o_proj,up_proj,down_proj", false, false);
        int[][] tokens = {{1, 5, 9, 12, 3, 7, 8, 2}, {4, 4, 6, 10, 11, 2, 3, 1}};
        int[][] targets = {{5, 9, 12, 3, 7, 8, 2, 6}, {4, 6, 10, 11, 2, 3, 1, 5}};
        float[] adapted;
        try (TorchPolicy p = TorchPolicy.create(base.config(), base.weights(), lora, 3);
             NDManager m = Engines.pytorch().newBaseManager()) {
            SplittableRandom rng = new SplittableRandom(4);
            Map<String, Tensor> ab = new LinkedHashMap<>();
            p.exportAdapter().forEach((name, t) -> {
                float[] d = t.toArray();
                if (name.contains("lora_B")) for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextDouble() - 0.5);
                ab.put(name, Tensor.of(name, t.shape(), d));
            });
            p.loadAdapter(ab);
            AdapterFiles.write(adapter, new AdapterFiles.Adapter(lora, model.toString(), ab));
            adapted = p.tokenLogProbs(m.create(tokens), m.create(targets)).toFloatArray();
        }
        String[] r = run("merge-lora", "--model", model.toString(), "--adapter", adapter.toString(), "--out", out.toString());
        assertThat(r[0]).as(r[1]).isEqualTo("0");
        ModelDir.Loaded merged = ModelDir.load(out);
        assertThat(merged.config()).isEqualTo(base.config());
        assertThat(out.resolve(ModelDir.TOKENIZER)).exists();
        try (TorchPolicy full = TorchPolicy.create(merged.config(), merged.weights());
             NDManager m = Engines.pytorch().newBaseManager()) {
            float[] got = full.tokenLogProbs(m.create(tokens), m.create(targets)).toFloatArray();
            double max = 0;
            for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - adapted[i]));
            assertThat(max).isLessThan(1e-4);
        }

        String[] eval = run("eval", "--model", model.toString(), "--adapter", adapter.toString(), "--limit", "3",
                "--max-tokens", "6", "--concurrency", "3");
        assertThat(eval[0]).as(eval[1]).isEqualTo("0");
        String[] evalNoBase = run("eval", "--server", "http://127.0.0.1:1", "--tokenizer", model.toString(),
                "--adapter", adapter.toString());
        assertThat(evalNoBase[0]).isEqualTo("2");
        assertThat(evalNoBase[1].strip()).isEqualTo("vaco eval: --adapter needs --model (its base)");

        String[] again = run("merge-lora", "--model", model.toString(), "--adapter", adapter.toString(), "--out", out.toString());
        assertThat(again[0]).isEqualTo("2");
        assertThat(again[1].strip()).isEqualTo("vaco merge-lora: --out " + out + ": not empty; merge into a new directory");
        String[] noAdapter = run("merge-lora", "--model", model.toString(), "--adapter", dir.resolve("none").toString(),
                "--out", dir.resolve("o2").toString());
        assertThat(noAdapter[0]).isEqualTo("2");
        assertThat(noAdapter[1]).startsWith("vaco merge-lora: --adapter ").contains("no such directory");
        Files.delete(adapter.resolve(AdapterFiles.WEIGHTS));
        String[] broken = run("merge-lora", "--model", model.toString(), "--adapter", adapter.toString(),
                "--out", dir.resolve("o3").toString());
        assertThat(broken[0]).isEqualTo("2");
        assertThat(broken[1]).contains(adapter.resolve(AdapterFiles.WEIGHTS) + ": no such file");
    }

    @Test
    void loraKeysArePrintedAndBadValuesExitTwoNamingTheKey() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertThat(VacoCommand.commandLine().execute("train", "--print-config")).isZero();
        } finally {
            System.setOut(old);
        }
        assertThat(buf.toString()).contains("\"lora\" : {", "\"r\" : 0", "\"alpha\" : 8.0", "\"dropout\" : 0.0",
                "\"target_modules\" : \"q_proj,v_proj\"", "\"use_rslora\" : false", "\"save_merged\" : false");
        String[] bad = run("train", "run.out_dir=" + dir.resolve("r"), "lora.target_modules=q_proj,lm_head");
        assertThat(bad[0]).isEqualTo("2");
        assertThat(bad[1].strip()).startsWith("vaco train: lora.target_modules: expected modules among")
                .contains("'lm_head'").doesNotContain("\n");
        String[] rank = run("train", "run.out_dir=" + dir.resolve("r"), "lora.r=-4");
        assertThat(rank[0]).isEqualTo("2");
        assertThat(rank[1].strip()).isEqualTo("vaco train: lora.r: expected an integer >= 0 (0 = off), found -4");
    }
}
