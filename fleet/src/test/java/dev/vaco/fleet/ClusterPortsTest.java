package dev.vaco.fleet;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.FileInputStream;
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
        File range = new File("/proc/sys/net/ipv4/ip_local_port_range");
        if (range.canRead()) { // read here another way: a stream to its end, not a size-sized buffer
            try (var in = new FileInputStream(range)) {
                assertThat(below).isEqualTo(Integer.parseInt(new String(in.readAllBytes()).trim().split("\\s+")[0]));
            }
        }
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
