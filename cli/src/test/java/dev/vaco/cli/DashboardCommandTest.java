package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code vaco dashboard}'s bad input (exit 2, one line naming it), and the bundled chart library against its lockfile. */
class DashboardCommandTest {
    static final Path NODE = Path.of("src/test/node");
    static final String ASSETS = "/dev/vaco/trainer/dashboard/";
    @TempDir Path dir;

    static void assertExit2(String line, String... args) {
        MergeLoraCommandTest.assertExit2(line, args);
    }

    @Test
    void badInputExitsWith2AndOneLineNamingIt() throws Exception {
        Path gone = dir.resolve("gone");
        assertExit2("vaco dashboard: RUN_DIR " + gone + ": no such directory", "dashboard", gone.toString());
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertExit2("vaco dashboard: RUN_DIR " + empty + ": holds no metrics.jsonl (not a vaco train run directory)",
                "dashboard", empty.toString());
        Files.writeString(empty.resolve("metrics.jsonl"), "");
        assertExit2("vaco dashboard: --port: expected 0..65535, found 70000", "dashboard", "--port", "70000", empty.toString());
        String[] r = MergeLoraCommandTest.run("train", "--dashboard-port", "70000", "run.out_dir=" + dir.resolve("run"));
        assertThat(r[0]).as(r[1]).isEqualTo("2");
        assertThat(r[1].strip()).startsWith("vaco train: dashboard.port: expected -1 (off), 0 (any free port) or a port up to 65535")
                .doesNotContain("\n");
    }

    static String version() throws Exception {
        JsonNode lock = new ObjectMapper().readTree(NODE.resolve("package-lock.json").toFile());
        return lock.path("packages").path("node_modules/uplot").path("version").asText();
    }

    static byte[] asset(String name) throws Exception {
        try (InputStream in = DashboardCommandTest.class.getResourceAsStream(ASSETS + name)) {
            assertThat(in).as(name + " in the trainer's jar").isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void theBundledUPlotIsTheLockfilesVersion() throws Exception {
        String v = version();
        assertThat(v).matches("[0-9]+\\.[0-9]+\\.[0-9]+");
        assertThat(new String(asset("uPlot.iife.min.js"), 0, 60)).startsWith("/*! https://github.com/leeoniya/uPlot (v" + v + ") */");
        assertThat(new String(asset("uPlot.SOURCE"))).contains("uPlot " + v, "uplot@" + v);
        assertThat(new String(asset("uPlot.LICENSE"))).contains("The MIT License");
        Path pkg = NODE.resolve("node_modules/uplot");
        assumeTrue(Files.isDirectory(pkg), "uplot is not installed: run `npm ci --prefix cli/src/test/node` to compare the files");
        assertThat(new ObjectMapper().readTree(pkg.resolve("package.json").toFile()).path("version").asText()).isEqualTo(v);
        assertThat(asset("uPlot.iife.min.js")).isEqualTo(Files.readAllBytes(pkg.resolve("dist/uPlot.iife.min.js")));
        assertThat(asset("uPlot.min.css")).isEqualTo(Files.readAllBytes(pkg.resolve("dist/uPlot.min.css")));
        assertThat(asset("uPlot.LICENSE")).isEqualTo(Files.readAllBytes(pkg.resolve("LICENSE")));
    }
}
