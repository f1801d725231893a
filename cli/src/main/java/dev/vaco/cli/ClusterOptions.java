package dev.vaco.cli;

import dev.vaco.fleet.ClusterConfig;
import dev.vaco.fleet.ClusterCredential;
import dev.vaco.fleet.ClusterNode;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --cluster NAME} and how to find the others, shared by {@code vaco serve} and {@code vaco train}: each flag is
 * the key {@code cluster.X} of {@link ClusterConfig} (for train also settable as {@code cluster.X=...} or in the
 * config file), validated there once.
 */
final class ClusterOptions {
    @Option(names = "--cluster", description = "Join the cluster of this name (cluster.name; default: no cluster).")
    String name;

    @Option(names = "--cluster-host", description = "Address this member binds and announces (cluster.host; default 127.0.0.1).")
    String host;

    @Option(names = "--cluster-port", description = "This member's Hazelcast port (cluster.port; default 5701).")
    Integer port;

    @Option(names = "--cluster-members", description = "host:port,host:port of members to join through (cluster.members).")
    String members;

    @Option(names = "--cluster-kubernetes-service-dns",
            description = "Find members through this headless Service's DNS name (cluster.kubernetes_service_dns).")
    String serviceDns;

    @Option(names = "--cluster-kubernetes-service-name",
            description = "Find members through the Kubernetes API, by this Service (cluster.kubernetes_service_name).")
    String serviceName;

    @Option(names = "--cluster-kubernetes-namespace", description = "The namespace of that Service (cluster.kubernetes_namespace).")
    String namespace;

    @Option(names = "--cluster-keystore", description = "The cluster's shared PKCS#12 keystore (cluster.keystore): the event "
            + "bus runs over mutual TLS with it and server announcements are signed with it. Use one whenever the network is shared.")
    String keystore;

    @Option(names = "--cluster-keystore-password", defaultValue = "${env:VACO_CLUSTER_KEYSTORE_PASSWORD}",
            description = "Its password (cluster.keystore_password; default: $VACO_CLUSTER_KEYSTORE_PASSWORD).")
    String keystorePassword;

    /** The flags given, as {@code cluster.*} overrides of the trainer's configuration. */
    List<String> overrides() {
        List<String> o = new ArrayList<>();
        add(o, "name", name);
        add(o, "host", host);
        add(o, "port", port == null ? null : port.toString());
        add(o, "members", members);
        add(o, "kubernetes_service_dns", serviceDns);
        add(o, "kubernetes_service_name", serviceName);
        add(o, "kubernetes_namespace", namespace);
        add(o, "keystore", keystore);
        add(o, "keystore_password", keystorePassword);
        return o;
    }

    private static void add(List<String> o, String key, String value) {
        if (value != null) o.add("cluster." + key + "=" + value);
    }

    /** The flags over the defaults (for serve); a bad value is reported under its flag, {@code --cluster-members}. */
    ClusterConfig config() {
        ClusterConfig d = ClusterConfig.defaults();
        try {
            return new ClusterConfig(or(name, d.name()), or(host, d.host()), port != null ? port : d.port(),
                    or(members, d.members()), or(serviceDns, ""), or(serviceName, ""), or(namespace, ""), 1, d.serverWaitS(),
                    or(keystore, ""), or(keystorePassword, ""));
        } catch (IllegalArgumentException e) {
            String m = String.valueOf(e.getMessage());
            int colon = m.indexOf(':');
            if (!m.startsWith("cluster.") || colon < 0) throw e;
            String key = m.substring("cluster.".length(), colon);
            String flag = key.equals("name") ? "--cluster" : "--cluster-" + key.replace('_', '-');
            throw new IllegalArgumentException(flag + m.substring(colon), e);
        }
    }

    /** One line on how this member is protected, printed when it has joined. */
    static String security(ClusterNode node) {
        ClusterCredential c = node.credential();
        if (c == null) {
            return "cluster " + node.config().name() + ": warning: no --cluster-keystore: the event bus is unencrypted and "
                    + "any process that reaches a member can announce servers (use one whenever the network is shared)";
        }
        return "cluster " + node.config().name() + ": event bus over mutual TLS, server announcements signed ("
                + c.certificate().getSubjectX500Principal().getName() + " from " + c.path() + ")";
    }

    private static String or(String v, String d) {
        return v != null ? v : d;
    }
}
