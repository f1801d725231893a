package dev.vaco.fleet;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hazelcast ports for members that tests start on loopback, taken below the kernel's ephemeral port range.
 *
 * <p>Why not {@code new ServerSocket(0)}: that port is an ephemeral one. When a member leaves, the others keep
 * reconnecting to its address for a while, and each attempt's source port is itself ephemeral; once the kernel hands
 * out the left member's port as the source of an attempt to that same port, the socket connects to itself (TCP
 * self-connect: 17,000 attempts were enough here). Hazelcast then takes the address for its own ("Connecting to self!",
 * "Target is this node!"), its heartbeat loop fails on it, and a member killed afterwards is never dropped: a fleet test
 * waits in vain. Production members listen on 5701, below the range, and never meet this.
 */
public final class ClusterPorts {
    private static final Set<Integer> GIVEN = new HashSet<>();

    private ClusterPorts() {}

    /** A port free now on loopback, below the ephemeral range, not handed out before by this JVM. */
    public static synchronized int free() throws IOException {
        int below = ephemeralStart();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(10_000, below);
            if (!GIVEN.add(port)) continue;
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // taken by someone else: try another
            }
        }
        throw new IOException("no free port in [10000, " + below + ") after 1000 tries");
    }

    /** The first port of Linux's ephemeral range (ip_local_port_range), or IANA's 49152 where there is no such file. */
    static int ephemeralStart() {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (!Files.isReadable(range)) return 49_152;
        try {
            // line by line: Files.readString trusts the size /proc reports and returned the first byte only ("3")
            int start = Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
            if (start <= 11_000) throw new IllegalStateException(range + " starts at " + start + ": no room below it");
            return start;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + range + ": " + e, e);
        }
    }
}
