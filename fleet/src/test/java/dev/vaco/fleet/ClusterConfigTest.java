package dev.vaco.fleet;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cluster settings: every bad value named by its key, and the Hazelcast member they configure. */
class ClusterConfigTest {
    private static ClusterConfig with(String name, String members, String dns, String svc, String ns) {
        return new ClusterConfig(name, "127.0.0.1", 5701, members, dns, svc, ns, 1, 300, "", "");
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
        assertThatThrownBy(() -> new ClusterConfig("c", "127.0.0.1", 0, "", "", "", "", 1, 300, "", ""))
                .hasMessageStartingWith("cluster.port: ");
        assertThatThrownBy(() -> new ClusterConfig("c", "127.0.0.1", 5701, "", "", "", "", 0, 300, "", ""))
                .hasMessageStartingWith("cluster.min_servers: ");
        assertThatThrownBy(() -> new ClusterConfig("c", "127.0.0.1", 5701, "", "", "", "", 1, 0, "", ""))
                .hasMessageStartingWith("cluster.server_wait_s: expected an integer >= 1");
        assertThatThrownBy(() -> ClusterNode.join(ClusterConfig.tcp("c", "no-such-host.invalid", 5701, "")))
                .hasMessageStartingWith("cluster.host: ");
    }

    @Test
    void aBadKeystoreIsNamedByItsKey(@TempDir Path dir) throws Exception {
        Path good = Keystores.make(dir, "cluster", "secret-1");
        ClusterConfig c = ClusterConfig.tcp("c", "127.0.0.1", 5701, "");
        assertThat(c.withKeystore(good.toString(), "secret-1").credential().certificate().getSubjectX500Principal().getName())
                .isEqualTo("CN=cluster");
        assertThatThrownBy(() -> c.withKeystore(dir.resolve("none.p12").toString(), "secret-1"))
                .hasMessageStartingWith("cluster.keystore: expected a PKCS#12 keystore file, found no such file");
        assertThatThrownBy(() -> c.withKeystore(good.toString(), "wrong-password"))
                .hasMessageStartingWith("cluster.keystore_password: expected the password of").hasMessageNotContaining("wrong-password");
        Path text = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nnot one\n");
        assertThatThrownBy(() -> c.withKeystore(text.toString(), "secret-1")).hasMessageStartingWith("cluster.keystore: ");
        assertThatThrownBy(() -> c.withKeystore(dir.toString(), "secret-1")).hasMessageStartingWith("cluster.keystore: ");
        // a store holding only a certificate (a trust store) has no key to sign or to present with
        Path certOnly = dir.resolve("trust.p12");
        var ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", c.withKeystore(good.toString(), "secret-1").credential().certificate());
        try (var out = Files.newOutputStream(certOnly)) {
            ks.store(out, "secret-1".toCharArray());
        }
        assertThatThrownBy(() -> c.withKeystore(certOnly.toString(), "secret-1"))
                .hasMessageStartingWith("cluster.keystore: expected a keystore holding a key pair");
        assertThatThrownBy(() -> new ClusterConfig("", "127.0.0.1", 5701, "", "", "", "", 1, 300, good.toString(), "secret-1"))
                .hasMessageStartingWith("cluster.keystore: ");
        assertThat(c.withKeystore(good.toString(), "secret-1").toString()).doesNotContain("secret-1").contains(ClusterConfig.MASK);
    }

    @Test
    void theEventBusRunsOverMutualTlsWithTheSharedKeystore(@TempDir Path dir) throws Exception {
        Path good = Keystores.make(dir, "cluster", "secret-1");
        var bus = new io.vertx.core.eventbus.EventBusOptions();
        ClusterNode.mutualTls(bus, ClusterCredential.load(good.toString(), "secret-1"));
        // Vert.x builds the event bus's client and server from these options' JSON: what matters must survive it
        var copy = new io.vertx.core.net.NetServerOptions(bus.toJson());
        assertThat(copy.isSsl()).isTrue();
        assertThat(copy.getClientAuth()).isEqualTo(io.vertx.core.http.ClientAuth.REQUIRED);
        assertThat(((io.vertx.core.net.PfxOptions) copy.getKeyCertOptions()).getPath()).isEqualTo(good.toAbsolutePath().toString());
        assertThat(((io.vertx.core.net.PfxOptions) copy.getTrustOptions()).getPath()).isEqualTo(good.toAbsolutePath().toString());
        assertThat(new io.vertx.core.net.NetClientOptions(bus.toJson()).isTrustAll()).isFalse();
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
