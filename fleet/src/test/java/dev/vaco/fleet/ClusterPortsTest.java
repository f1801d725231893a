package dev.vaco.fleet;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The ports test members listen on: below the ephemeral range, free, never handed out twice. */
class ClusterPortsTest {
    @Test
    void portsAreFreeBelowTheEphemeralRangeAndDistinct() throws Exception {
        int below = ClusterPorts.ephemeralStart();
        assertThat(below).isGreaterThan(10_000);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = ClusterPorts.free();
            assertThat(port).isBetween(10_000, below - 1);
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }
}
