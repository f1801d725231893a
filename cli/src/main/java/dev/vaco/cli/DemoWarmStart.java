package dev.vaco.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vaco.model.ModelDir;
import dev.vaco.trainer.config.TrainConfig;
import dev.vaco.trainer.experiment.SharedWarmStart;
import dev.vaco.trainer.sft.WarmStart;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo's warm start, shared by its three arms: trained once into {@code <run>/warm-start} (a model directory) with
 * {@code warm-start.json} beside its weights; a resumed demo reads it back instead of training again.
 */
final class DemoWarmStart {
    private DemoWarmStart() {}

    /** Trains the warm start (or finds it trained); returns its seconds per step, NaN when a stop request ended it. */
    static double trainOrRead(TrainConfig cfg, Path dir, PrintStream log) throws Exception {
        Path info = dir.resolve("warm-start.json");
        ObjectMapper json = new ObjectMapper();
        if (Files.isRegularFile(dir.resolve(ModelDir.WEIGHTS)) && Files.isRegularFile(info)) {
            var j = json.readTree(info.toFile());
            log.printf("warm start: %s (trained earlier: %d steps, loss %.4f)%n", dir, j.path("steps").asInt(), j.path("loss").asDouble());
            return j.path("seconds_per_step").asDouble();
        }
        WarmStart.Report r = SharedWarmStart.train(cfg, dir, log);
        if (r == null) return Double.NaN;
        double perStep = r.seconds() / Math.max(1, r.steps());
        log.printf("warm start: %d steps, loss %.4f, %.0f s%n", r.steps(), r.finalLoss(), r.seconds());
        Files.writeString(info, json.createObjectNode().put("steps", r.steps()).put("loss", r.finalLoss())
                .put("seconds", r.seconds()).put("seconds_per_step", perStep).toPrettyString() + "\n");
        return perStep;
    }
}
