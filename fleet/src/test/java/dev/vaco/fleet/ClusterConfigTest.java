package dev.vaco.fleet;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cluster settings: every bad value named by its key, and the Hazelcast member they configure. */
class ClusterConfigTest {
    private static ClusterConfig with(String name, String members, String dns, String svc, String ns) {
        return new ClusterConfig(name, "127.0.0.1", 5701, members, dns, svc, ns, 1);
    }

    @Test
    void defaultsAreNoCluster() {
        assertThat(ClusterConfig.defaults().enabled()).isFalse();
        assertThat(ClusterConfig.tcp("c", "127.0.0.1", 5701, "").enabled()).isTrue();
    }

    @Test
    void badValuesAreNamedByTheirKey() {
        assertThatThrownBy(() -> with("c", "127.0.0.1:5701,host:notaport", "", "", ""))
                .hasMessageStartingWith("cluster.members: ").hasMessageContaining("'host:notaport'");
        assertThatThrownBy(() -> with("c", "127.0.0.1:70000", "", "", "")).hasMessageStartingWith("cluster.members: ");
        assertThatThrownBy(() -> with("c", "a b:1", "", "", "")).hasMessageStartingWith("cluster.members: ");
        assertThatThrownBy(() -> with("c", "127.0.0.1:5701,", "", "", "")).hasMessageStartingWith("cluster.members: ");
        assertThatThrownBy(() -> with("bad name", "", "", "", "")).hasMessageStartingWith("cluster.name: ");
        assertThatThrownBy(() -> with("", "127.0.0.1:5701", "", "", "")).hasMessageStartingWith("cluster.name: ");
        assertThatThrownBy(() -> with("c", "127.0.0.1:5701", "vaco.default.svc", "", ""))
                .hasMessageStartingWith("cluster.members: ");
        assertThatThrownBy(() -> with("c", "", "vaco.default.svc", "vaco", ""))
                .hasMessageStartingWith("cluster.kubernetes_service_dns: ");
        assertThatThrownBy(() -> with("c", "", "", "", "ns")).hasMessageStartingWith("cluster.kubernetes_namespace: ");
        assertThatThrownBy(() -> new ClusterConfig("c", "127.0.0.1", 0, "", "", "", "", 1))
                .hasMessageStartingWith("cluster.port: ");
        assertThatThrownBy(() -> new ClusterConfig("c", "127.0.0.1", 5701, "", "", "", "", 0))
                .hasMessageStartingWith("cluster.min_servers: ");
        assertThatThrownBy(() -> ClusterNode.join(ClusterConfig.tcp("c", "no-such-host.invalid", 5701, "")))
                .hasMessageStartingWith("cluster.host: ");
    }

    @Test
    void memberWithoutPortGetsHazelcastsDefault() {
        assertThat(with("c", "10.0.0.5, 10.0.0.6:6000", "", "", "").memberList())
                .containsExactly("10.0.0.5:5701", "10.0.0.6:6000");
    }

    @Test
    void tcpMemberStaysOnItsAddressWithoutMulticastOrPhoneHome() {
        Config hz = ClusterNode.hazelcastConfig(with("c", "127.0.0.1:5702", "", "", ""), "127.0.0.1");
        JoinConfig join = hz.getNetworkConfig().getJoin();
        assertThat(hz.getClusterName()).isEqualTo("c");
        assertThat(join.getMulticastConfig().isEnabled()).isFalse();
        assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
        assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
        assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
        assertThat(join.getTcpIpConfig().getMembers()).containsExactly("127.0.0.1:5702");
        assertThat(hz.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("127.0.0.1");
        assertThat(hz.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
        assertThat(hz.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
        // Vert.x's own structures survive the programmatic configuration
        assertThat(hz.getMultiMapConfigs()).containsKey("__vertx.subs");
    }

    @Test
    void kubernetesDiscoveryByDnsOrApi() {
        JoinConfig dns = ClusterNode.hazelcastConfig(with("c", "", "vaco-servers.default.svc.cluster.local", "", ""), null)
                .getNetworkConfig().getJoin();
        assertThat(dns.getKubernetesConfig().isEnabled()).isTrue();
        assertThat(dns.getKubernetesConfig().getProperty("service-dns")).isEqualTo("vaco-servers.default.svc.cluster.local");
        assertThat(dns.getTcpIpConfig().isEnabled()).isFalse();
        assertThat(dns.getMulticastConfig().isEnabled()).isFalse();
        JoinConfig api = ClusterNode.hazelcastConfig(with("c", "", "", "vaco-servers", "rl"), null)
                .getNetworkConfig().getJoin();
        assertThat(api.getKubernetesConfig().getProperty("service-name")).isEqualTo("vaco-servers");
        assertThat(api.getKubernetesConfig().getProperty("namespace")).isEqualTo("rl");
    }
}
