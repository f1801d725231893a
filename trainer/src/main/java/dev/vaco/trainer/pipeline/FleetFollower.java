package dev.vaco.trainer.pipeline;

import dev.vaco.fleet.FleetView;
import dev.vaco.fleet.ServerAnnouncement;
import dev.vaco.model.wire.PolicyClient;

import java.io.PrintStream;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the rollout coordinator's server set equal to the cluster's: a server that announces itself is added (and
 * takes load once it holds the current weights), one that leaves or dies is removed (its requests fail over).
 */
final class FleetFollower implements FleetView.Listener, AutoCloseable {
    private final FleetView fleet;
    private final RolloutCoordinator coord;
    private final String weightsToken;
    /** The servers' {@code --api-key}, or null: a server that requires one refuses the trainer's requests without it. */
    private final String apiKey;
    private final PrintStream out;
    private final Map<String, PolicyClient> clients = new ConcurrentHashMap<>();

    private FleetFollower(FleetView fleet, RolloutCoordinator coord, String weightsToken, String apiKey, PrintStream out) {
        this.fleet = fleet;
        this.coord = coord;
        this.weightsToken = weightsToken;
        this.apiKey = apiKey;
        this.out = out;
    }

    /** Follows {@code fleet} into {@code coord}; null without a cluster (try-with-resources skips it). */
    static FleetFollower follow(FleetView fleet, RolloutCoordinator coord, String weightsToken, String apiKey,
                                PrintStream out) {
        if (fleet == null) return null;
        FleetFollower f = new FleetFollower(fleet, coord, weightsToken, apiKey, out);
        fleet.listen(f);
        return f;
    }

    @Override
    public void joined(ServerAnnouncement s) {
        PolicyClient c = new PolicyClient(URI.create(s.url()), weightsToken, apiKey);
        PolicyClient before = clients.put(s.nodeId(), c);
        if (before != null) before.close();
        coord.addServer(c);
        out.printf("cluster: server %s joined (model %s, max_num_seqs %d, live version %d)%n", s.url(), s.model(),
                s.maxNumSeqs(), s.liveVersion());
    }

    @Override
    public void left(ServerAnnouncement s) {
        PolicyClient c = clients.remove(s.nodeId());
        coord.removeServer(c != null ? c.base() : URI.create(s.url() + "/"));
        out.printf("cluster: server %s left; its requests in flight go to the others%n", s.url());
    }

    @Override
    public void close() {
        fleet.unlisten(this);
        clients.values().forEach(PolicyClient::close);
    }
}
