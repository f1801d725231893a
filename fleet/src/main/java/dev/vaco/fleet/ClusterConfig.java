package dev.vaco.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code cluster.*}: which cluster a server or trainer joins, and how it finds the others. An empty {@code name} is no
 * cluster (the default: {@code --server URL} and the embedded demo).
 *
 * <p>Joining: by a TCP member list ({@code members}, bare metal and loopback tests; multicast is never used), or by
 * Hazelcast's Kubernetes discovery, either through a headless Service's DNS ({@code kubernetes_service_dns}) or
 * through the Kubernetes API ({@code kubernetes_service_name}, {@code kubernetes_namespace}).
 *
 * @param name                  the cluster to join; members of another name never merge ("" = no cluster) [""]
 * @param host                  address this member binds and announces ("" = let Hazelcast pick, e.g. a pod's IP)
 *                              [127.0.0.1]
 * @param port                  this member's Hazelcast port [5701]
 * @param members               comma-separated {@code host:port} (or {@code host}, port 5701) of members to join
 *                              through; "" = this member alone until others join through it [""]
 * @param kubernetesServiceDns  a headless Service's DNS name: Kubernetes discovery by DNS lookup [""]
 * @param kubernetesServiceName a Service's name: Kubernetes discovery through the API (needs a role to read endpoints)
 *                              [""]
 * @param kubernetesNamespace   the namespace of {@code kubernetes_service_name} ("" = the pod's own) [""]
 * @param minServers            the trainer waits until this many servers have announced themselves before it starts
 *                              [1]
 * @param serverWaitS           how long the trainer waits for them before it gives up (seconds; a scheduler's SIGTERM
 *                              ends the wait at once) [300]
 * @param keystore              the cluster's shared PKCS#12 keystore (one key pair and its certificate, the same file on
 *                              every member): the event bus runs over mutual TLS with it and server announcements are
 *                              signed with it; "" = neither (only on a network no one else shares) [""]
 * @param keystorePassword      its password [""]
 */
public record ClusterConfig(String name, String host, int port, String members, String kubernetesServiceDns,
                            String kubernetesServiceName, String kubernetesNamespace, int minServers, int serverWaitS, String keystore,
                            String keystorePassword) {
    /** Hazelcast's default port, used for a member given without one. */
    public static final int DEFAULT_PORT = 5701;
    /** Five minutes: long enough for servers that load a large model, short enough to fail a misconfigured job. */
    public static final int DEFAULT_SERVER_WAIT_S = 300;
    /** What is shown instead of a password. */
    public static final String MASK = "********";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public ClusterConfig {
        name = trim(name);
        host = trim(host);
        members = trim(members);
        kubernetesServiceDns = trim(kubernetesServiceDns);
        kubernetesServiceName = trim(kubernetesServiceName);
        kubernetesNamespace = trim(kubernetesNamespace);
        keystore = trim(keystore);
        keystorePassword = keystorePassword == null ? "" : keystorePassword; // a password's spaces are its own
        require(name.isEmpty() || NAME.matcher(name).matches(), "cluster.name",
                "1-64 letters, digits, '.', '_' or '-' (or \"\" for no cluster)", name);
        require(port >= 1 && port <= 65535, "cluster.port", "a port in [1, 65535]", port);
        require(minServers >= 1, "cluster.min_servers", "an integer >= 1", minServers);
        require(serverWaitS >= 1, "cluster.server_wait_s", "an integer >= 1 (seconds)", serverWaitS);
        parseMembers(members); // validates every address
        boolean k8s = !kubernetesServiceDns.isEmpty() || !kubernetesServiceName.isEmpty();
        require(kubernetesServiceDns.isEmpty() || kubernetesServiceName.isEmpty(), "cluster.kubernetes_service_dns",
                "either it or cluster.kubernetes_service_name (DNS or API discovery), not both", kubernetesServiceDns);
        require(!k8s || members.isEmpty(), "cluster.members", "\"\" when Kubernetes discovery is on", members);
        require(kubernetesNamespace.isEmpty() || !kubernetesServiceName.isEmpty(), "cluster.kubernetes_namespace",
                "\"\" unless cluster.kubernetes_service_name is set", kubernetesNamespace);
        require(!name.isEmpty() || (members.isEmpty() && !k8s), "cluster.name",
                "a cluster name when cluster.members or Kubernetes discovery is set", "\"\"");
        require(keystore.isEmpty() || !name.isEmpty(), "cluster.keystore", "\"\" unless cluster.name is set", keystore);
        if (!keystore.isEmpty()) ClusterCredential.load(keystore, keystorePassword); // missing, unreadable, wrong password
    }

    public static ClusterConfig defaults() {
        return new ClusterConfig("", "127.0.0.1", DEFAULT_PORT, "", "", "", "", 1, DEFAULT_SERVER_WAIT_S, "", "");
    }

    /** A loopback member of {@code name} on {@code port}, joining through {@code members} (tests, bare metal). */
    public static ClusterConfig tcp(String name, String host, int port, String members) {
        return new ClusterConfig(name, host, port, members, "", "", "", 1, DEFAULT_SERVER_WAIT_S, "", "");
    }

    /** This configuration with the shared keystore {@code path} and its password. */
    public ClusterConfig withKeystore(String path, String password) {
        return new ClusterConfig(name, host, port, members, kubernetesServiceDns, kubernetesServiceName,
                kubernetesNamespace, minServers, serverWaitS, path, password);
    }

    /** The shared credential, or null without {@code keystore}. */
    public ClusterCredential credential() {
        return keystore.isEmpty() ? null : ClusterCredential.load(keystore, keystorePassword);
    }

    /** Never the password: this record is printed and logged. */
    @Override
    public String toString() {
        return "ClusterConfig[name=" + name + ", host=" + host + ", port=" + port + ", members=" + members
                + ", kubernetes_service_dns=" + kubernetesServiceDns + ", kubernetes_service_name=" + kubernetesServiceName
                + ", kubernetes_namespace=" + kubernetesNamespace + ", min_servers=" + minServers + ", keystore=" + keystore
                + ", keystore_password=" + (keystorePassword.isEmpty() ? "" : MASK) + "]";
    }

    /** Whether a cluster is to be joined at all. */
    public boolean enabled() {
        return !name.isEmpty();
    }

    /** Whether members are found through Kubernetes rather than the TCP list. */
    public boolean kubernetes() {
        return !kubernetesServiceDns.isEmpty() || !kubernetesServiceName.isEmpty();
    }

    /** {@code members} as {@code host:port} strings, every one with its port. */
    public List<String> memberList() {
        return parseMembers(members);
    }

    private static List<String> parseMembers(String members) {
        List<String> out = new ArrayList<>();
        if (members.isEmpty()) return out;
        for (String raw : members.split(",", -1)) {
            String m = raw.trim();
            int colon = m.lastIndexOf(':');
            String h = colon < 0 ? m : m.substring(0, colon);
            String p = colon < 0 ? Integer.toString(DEFAULT_PORT) : m.substring(colon + 1);
            require(validHost(h) && validPort(p), "cluster.members",
                    "comma-separated host:port addresses (e.g. 10.0.0.5:5701,10.0.0.6:5701)", "'" + m + "'");
            out.add(h + ":" + p);
        }
        return out;
    }

    private static boolean validHost(String h) {
        return !h.isEmpty() && h.matches("[A-Za-z0-9.\\-]+");
    }

    private static boolean validPort(String p) {
        if (!p.matches("[0-9]{1,5}")) return false;
        int v = Integer.parseInt(p);
        return v >= 1 && v <= 65535;
    }

    private static String trim(String s) {
        return s == null ? "" : s.trim();
    }

    /**
     * The message starts with the key path, as the trainer's other sections' errors do ({@code ConfigLoader} keeps
     * it); {@code vaco serve} turns the key into its flag.
     */
    private static void require(boolean ok, String key, String expected, Object found) {
        if (!ok) throw new IllegalArgumentException(key + ": expected " + expected + ", found " + found);
    }
}
