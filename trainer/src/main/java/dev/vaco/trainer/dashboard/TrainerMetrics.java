package dev.vaco.trainer.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The trainer's {@code /metrics} (Micrometer's Prometheus registry): every number of the newest {@code metrics.jsonl}
 * line as a gauge, the pipeline's state from the live status, and Vert.x's HTTP and the JVM's meters (bound by
 * {@link DashboardServer}).
 *
 * <pre>
 *   step line  {"step": 12, "version": 13, "reward/mean": 0.61, "lag/tokens_2": 340, ...}
 *     -> vaco_trainer_step 12, vaco_trainer_version 13, vaco_trainer_reward_mean 0.61, vaco_trainer_lag_tokens{lag="2"} 340
 *   eval line  {"eval/accuracy": 0.64, "eval/ci_low": 0.60, ...} -> vaco_trainer_eval_accuracy 0.64, ...
 *   status     {"phase": "training", "in_flight_groups": 9, "max_staleness": 2, "servers": [{"url": U, "version": 13, ...}]}
 *     -> vaco_trainer_phase{phase="training"} 1 (and 0 for "warm start" and "finished"), vaco_trainer_in_flight_groups 9,
 *        vaco_trainer_max_staleness 2, vaco_trainer_server_version{server="U"} 13, ...
 * </pre>
 * A key is named {@code vaco_trainer_} + the key with every character outside {@code [a-zA-Z0-9_]} as {@code _}.
 */
final class TrainerMetrics {
    /** A gauge's value, written by the tail of the log, read at scrape time. */
    private static final class Value {
        volatile double v = Double.NaN;
    }

    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Value> values = new ConcurrentHashMap<>();

    /** One metrics.jsonl line: a step line sets every gauge it has a number for, an eval line the eval/* ones. */
    void line(JsonNode o) {
        boolean eval = o.has("eval/accuracy");
        // a lag absent from the newest step had no tokens there
        if (!eval) values.forEach((k, v) -> {
            if (k.startsWith("vaco_trainer_lag_tokens")) v.v = 0;
        });
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            if (!e.getValue().isNumber() || (eval && !key.startsWith("eval/"))) continue;
            if (key.startsWith("lag/tokens_")) {
                set("vaco_trainer_lag_tokens", "Tokens of the newest learner step by their lag (versions).",
                        Tags.of("lag", key.substring("lag/tokens_".length())), e.getValue().asDouble());
            } else {
                set("vaco_trainer_" + key.replaceAll("[^a-zA-Z0-9_]", "_"),
                        "metrics.jsonl's " + key + " at the newest " + (eval ? "evaluation" : "learner step") + ".",
                        Tags.empty(), e.getValue().asDouble());
            }
        }
    }

    /** The phase gauge has one series per phase {@link RunDashboard} reports, 1 for the current. */
    private static final String[] PHASES = {RunDashboard.WARM_START, RunDashboard.TRAINING, RunDashboard.FINISHED};

    /**
     * The live status: the phase (so a scrape during a long warm start already says where the run is), admission
     * (groups in flight and ready, the staleness bound) and each server's versions.
     */
    void status(JsonNode s) {
        if (s.has("phase")) {
            String now = s.get("phase").asText();
            for (String p : PHASES) {
                set("vaco_trainer_phase", "1 for the run's current phase (warm start, training, finished), 0 for the others.",
                        Tags.of("phase", p), p.equals(now) ? 1 : 0);
            }
        }
        for (String k : new String[] {"in_flight_groups", "ready_groups", "max_staleness", "prompts_per_step", "admitted_groups", "admission_limit"}) {
            if (s.has(k)) set("vaco_trainer_" + k, "The rollout pipeline's " + k.replace('_', ' ') + " now.", Tags.empty(), s.get(k).asDouble());
        }
        for (JsonNode srv : s.path("servers")) {
            Tags t = Tags.of("server", srv.path("url").asText());
            set("vaco_trainer_server_version", "Policy version each server samples with.", t, srv.path("version").asDouble());
            set("vaco_trainer_server_healthy", "1 while a server is in rotation, 0 while it is down.", t, srv.path("healthy").asBoolean() ? 1 : 0);
        }
    }

    private void set(String name, String help, Tags tags, double v) {
        values.computeIfAbsent(name + tags, k -> {
            Value h = new Value();
            Gauge.builder(name, h, x -> x.v).description(help).tags(tags).strongReference(true).register(registry);
            return h;
        }).v = v;
    }

    String scrape() {
        return registry.scrape();
    }
}
