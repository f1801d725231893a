package dev.vaco.cli;

import dev.vaco.model.ModelDir;
import dev.vaco.model.ModelInit;
import dev.vaco.model.Tensor;
import dev.vaco.model.lora.AdapterFiles;
import dev.vaco.model.lora.LoraConfig;
import dev.vaco.model.lora.LoraTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vaco train lora.r=4} on its embedded server pushes the adapter alone (the server has LoRA inputs of the run's
 * rank). {@code vaco serve --lora-modules}: every bad entry (no '=', a missing directory, a broken adapter, a rank above
 * {@code --max-lora-rank}, a target module no Llama / Qwen2 layer has) exits with 2 and one line naming the flag and
 * the entry or file, before the model is loaded.
 */
class ServeLoraFlagsTest {
    @TempDir Path dir;

    private static Path adapter(Path dir, ModelDir.Loaded m, int r, String targets) throws Exception {
        LoraConfig c = new LoraConfig(r, 8, 0.0, targets, false, false);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < m.config().numHiddenLayers(); l++) {
            for (LoraTarget x : c.targets()) {
                long[] a = x.shapeA(m.config(), r), b = x.shapeB(m.config(), r);
                t.put(x.peftName(l, "A"), Tensor.of(x.peftName(l, "A"), a, new float[(int) (a[0] * a[1])]));
                t.put(x.peftName(l, "B"), Tensor.of(x.peftName(l, "B"), b, new float[(int) (b[0] * b[1])]));
            }
        }
        AdapterFiles.write(dir, new AdapterFiles.Adapter(c, "", t));
        return dir;
    }

    /** {@code vaco ARGS} exits with 2 and prints exactly {@code line} (also ServeQuantizationFlagTest's check). */
    static void assertExit2(String line, String... args) {
        MergeLoraCommandTest.assertExit2(line, args);
    }

    @Test
    void badLoraModulesExitWith2NamingTheFlagAndTheEntry() throws Exception {
        Path model = dir.resolve("model");
        ModelDir.Loaded m = ModelInit.initTiny(model, 1);
        String mo = model.toString();
        assertExit2("vaco serve: --lora-modules: expected NAME=DIR, found 'sql'", "serve", "--model", mo, "--lora-modules", "sql");
        Path none = dir.resolve("none");
        assertExit2("vaco serve: --lora-modules sql=" + none + ": no such directory",
                "serve", "--model", mo, "--lora-modules", "sql=" + none);
        Path wide = adapter(dir.resolve("wide"), m, 16, "q_proj");
        assertExit2("vaco serve: --lora-modules sql=" + wide + ": rank 16 exceeds --max-lora-rank 8",
                "serve", "--model", mo, "--max-lora-rank", "8", "--lora-modules", "sql=" + wide);
        Path broken = adapter(dir.resolve("broken"), m, 4, "q_proj");
        Files.delete(broken.resolve(AdapterFiles.WEIGHTS));
        assertExit2("vaco serve: --lora-modules sql: " + broken.resolve(AdapterFiles.WEIGHTS) + ": no such file",
                "serve", "--model", mo, "--lora-modules", "sql=" + broken);
        Path alien = adapter(dir.resolve("alien"), m, 4, "q_proj");
        Path cfg = alien.resolve(AdapterFiles.CONFIG);
        Files.writeString(cfg, Files.readString(cfg).replace("\"q_proj\"", "\"c_attn\""));
        String[] r = MergeLoraCommandTest.run("serve", "--model", mo, "--lora-modules", "ok=" + adapter(dir.resolve("ok"), m, 4, "q_proj"),
                "alien=" + alien);
        assertThat(r[0]).as(r[1]).isEqualTo("2");
        assertThat(r[1].strip()).startsWith("vaco serve: --lora-modules alien: " + cfg + ": target_modules: expected modules among")
                .contains("'c_attn'").doesNotContain("\n");
    }

    @Test
    void aLoraTrainRunPushesTheAdapterToItsEmbeddedServer() throws Exception {
        Path run = dir.resolve("run");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true));
        int rc;
        try {
            rc = VacoCommand.commandLine().execute("train", "run.out_dir=" + run, "run.steps=1", "run.eval_every=0",
                    "run.eval_problems=4", "sft.steps=1", "sft.warmup_steps=0", "sft.batch_size=4",
                    "rollout.prompts_per_step=2", "rollout.group_size=2", "rollout.max_tokens=8", "optim.warmup_steps=0",
                    "pipeline.canary_prompts=1", "lora.r=4", "lora.target_modules=all-linear");
        } finally {
            System.setOut(old);
        }
        assertThat(rc).as(out.toString()).isZero();
        assertThat(out.toString()).contains("LoRA: the servers have adapter inputs: pushes carry the adapter (r 4) alone");
        String step = Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> l.contains("sync/bytes_sent"))
                .findFirst().orElseThrow();
        double sent = new com.fasterxml.jackson.databind.ObjectMapper().readTree(step).path("sync/bytes_sent").asDouble();
        assertThat(sent).as("an adapter of the built-in model, not its 6.4 MB").isBetween(1e5, 3e5);
    }
}
