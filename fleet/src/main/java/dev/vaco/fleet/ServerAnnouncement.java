package dev.vaco.fleet;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * What an inference server tells the cluster about itself, under its member id in the cluster map
 * {@link ServerAnnouncer#MAP}: where to send requests and what it can serve.
 *
 * @param nodeId           the cluster member that announced it (Vert.x's node id; in vertx-hazelcast 5 not Hazelcast's member UUID)
 * @param url              the server's HTTP base URL, e.g. {@code http://10.0.0.5:8000}
 * @param model            the served model id ({@code --served-model-name})
 * @param maxNumSeqs       sequences it decodes together ({@code --max-num-seqs}): its capacity
 * @param liveVersion      the policy version unpinned requests sample with
 * @param residentVersions every version it holds, oldest first (pinned requests may name any of them)
 */
public record ServerAnnouncement(String nodeId, String url, String model, int maxNumSeqs, long liveVersion,
                                 List<Long> residentVersions) {
    public ServerAnnouncement {
        residentVersions = List.copyOf(residentVersions);
    }

    /** The cluster map holds JSON objects: Vert.x serialises them across members without a codec. */
    public JsonObject toJson() {
        return new JsonObject().put("node_id", nodeId).put("url", url).put("model", model).put("max_num_seqs", maxNumSeqs)
                .put("live_version", liveVersion).put("resident_versions", new JsonArray(new ArrayList<>(residentVersions)));
    }

    public static ServerAnnouncement fromJson(JsonObject j) {
        List<Long> resident = new ArrayList<>();
        for (Object v : j.getJsonArray("resident_versions", new JsonArray())) resident.add(((Number) v).longValue());
        return new ServerAnnouncement(j.getString("node_id"), j.getString("url"), j.getString("model"),
                j.getInteger("max_num_seqs", 0), j.getLong("live_version", -1L), resident);
    }
}
