package dev.vaco.trainer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vaco.trainer.config.DashboardConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The page of a running {@code vaco train} ({@code dashboard.port}; off at -1): opened with the run directory, it shows
 * the warm start's phase until {@link #follow} hands it the rollout pipeline's state, and every metrics.jsonl line as
 * the trainer writes it. Closed with the run. Does nothing when the dashboard is off.
 */
public final class RunDashboard implements AutoCloseable {
    /** The phases the status reports, in order (also the trainer's {@code vaco_trainer_phase} series). */
    static final String WARM_START = "warm start", TRAINING = "training", FINISHED = "finished";

    private final DashboardServer server;
    private volatile Supplier<ObjectNode> pipeline;
    private volatile String phase = WARM_START;

    private RunDashboard(DashboardConfig c, Path runDir) {
        Path abs = runDir.toAbsolutePath().normalize();
        String id = abs.getFileName() == null ? "run" : abs.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        this.server = c.enabled() ? DashboardServer.live(c.host(), c.port(), id, abs, this::status) : null;
    }

    /** Starts the page when {@code dashboard.port} >= 0 and prints its URL. */
    public static RunDashboard open(DashboardConfig c, Path runDir, PrintStream out) {
        RunDashboard d = new RunDashboard(c, runDir);
        if (d.server != null) out.println("dashboard: " + d.server.url() + " (live while the run goes on)");
        return d;
    }

    /** From now on the page shows the pipeline: {@code state} is read every tick. */
    public void follow(Supplier<ObjectNode> state) {
        this.pipeline = state;
        this.phase = TRAINING;
    }

    /** The URL of the page, or null when the dashboard is off. */
    public String url() {
        return server == null ? null : server.url();
    }

    private JsonNode status() {
        Supplier<ObjectNode> p = pipeline;
        ObjectNode o = p == null || phase.equals(FINISHED) ? JsonNodeFactory.instance.objectNode() : p.get();
        return o.put("phase", phase);
    }

    @Override
    public void close() {
        if (server == null) return;
        phase = FINISHED;
        server.close();
    }
}
