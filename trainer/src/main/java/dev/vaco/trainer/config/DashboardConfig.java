package dev.vaco.trainer.config;

import static dev.vaco.model.ConfigException.require;

/**
 * {@code dashboard.*}: the page (and {@code /metrics}) the trainer serves while it runs.
 *
 * @param port -1 = off; 0 = any free port (printed); else this port [-1]
 * @param host the address it listens on; loopback by default, as the page has no authentication [127.0.0.1]
 */
public record DashboardConfig(int port, String host) {

    public DashboardConfig {
        require(port >= -1 && port <= 65535, "dashboard.port", "-1 (off), 0 (any free port) or a port up to 65535", port);
        require(host != null && !host.isBlank(), "dashboard.host", "an address to listen on", host);
    }

    public static DashboardConfig defaults() {
        return new DashboardConfig(-1, "127.0.0.1");
    }

    public boolean enabled() {
        return port >= 0;
    }
}
