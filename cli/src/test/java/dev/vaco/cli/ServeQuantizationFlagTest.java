package dev.vaco.cli;

import dev.vaco.model.ModelInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.vaco.cli.ServeLoraFlagsTest.assertExit2;

/**
 * {@code vaco serve --quantization} and {@code --score-fp32}: a bad value, or a combination that cannot work, exits
 * with 2 and one line naming the flag.
 */
class ServeQuantizationFlagTest {
    @TempDir Path dir;

    @Test
    void badQuantizationExitsWith2NamingTheFlag() throws Exception {
        Path model = dir.resolve("model");
        ModelInit.initTiny(model, 1);
        String mo = model.toString();
        assertExit2("vaco serve: --quantization: expected none, int8 or int4, got 'fp8'",
                "serve", "--model", mo, "--quantization", "fp8");
        assertExit2("vaco serve: --quantization int4 needs prepacked weights: drop --no-weight-prepack",
                "serve", "--model", mo, "--quantization", "int4", "--no-weight-prepack");
        assertExit2("vaco serve: --score-fp32 needs --quantization int8 or int4", "serve", "--model", mo, "--score-fp32");
        assertExit2("vaco serve: --score-fp32 is not available with LoRA adapters (--enable-lora, --lora-modules)",
                "serve", "--model", mo, "--quantization", "int8", "--score-fp32", "--enable-lora");
    }
}
