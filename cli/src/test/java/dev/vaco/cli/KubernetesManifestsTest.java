package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/k8s: no Kubernetes runs on the build machines, so the manifests are read into the Kubernetes API's own model
 * classes (fabric8's) and their wiring is checked against the CLI: every container's arguments parse as vaco's, the
 * ports its flags name are the ports the probes and Services use, every member joins one cluster through the headless
 * Service's DNS, both sides read the weights token and API key from one secret, the trainer resumes and writes its run
 * onto a claimed volume, and every container states its resources.
 */
class KubernetesManifestsTest {
    static final Path MANIFESTS = Path.of("..", "docker", "k8s", "vaco.yaml");
    static Map<String, HasMetadata> byName;
    static Deployment servers;
    static Job trainer;

    @BeforeAll
    static void read() throws Exception {
        ObjectMapper yaml = new YAMLMapper();
        byName = new java.util.LinkedHashMap<>();
        try (var docs = yaml.readValues(new YAMLFactory().createParser(MANIFESTS.toFile()), JsonNode.class)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isEmpty()) continue;
                Class<? extends HasMetadata> kind = switch (doc.path("kind").asText()) {
                    case "Service" -> Service.class;
                    case "Deployment" -> Deployment.class;
                    case "Job" -> Job.class;
                    case "PersistentVolumeClaim" -> PersistentVolumeClaim.class;
                    default -> throw new AssertionError("unexpected kind in " + MANIFESTS + ": " + doc.path("kind"));
                };
                HasMetadata r = yaml.treeToValue(doc, kind);
                assertThat(r.getApiVersion()).as(r.getMetadata().getName()).isIn("v1", "apps/v1", "batch/v1");
                byName.put(r.getKind() + "/" + r.getMetadata().getName(), r);
            }
        }
        servers = (Deployment) byName.get("Deployment/vaco-server");
        trainer = (Job) byName.get("Job/vaco-trainer");
        assertThat(servers).isNotNull();
        assertThat(trainer).isNotNull();
    }

    /** The container's args with the pod's downward-API variables as Kubernetes would expand them. */
    private static List<String> args(Container c) {
        List<String> out = new ArrayList<>();
        for (String a : c.getArgs()) out.add(a.replace("$(POD_IP)", "10.1.2.3").replace("$(POD_NAMESPACE)", "rl"));
        return out;
    }

    private static String flag(List<String> args, String name) {
        int i = args.indexOf(name);
        assertThat(i).as(name + " in " + args).isNotNegative();
        return args.get(i + 1);
    }

    private static Container only(PodTemplateSpec t) {
        assertThat(t.getSpec().getContainers()).hasSize(1);
        return t.getSpec().getContainers().get(0);
    }

    private static int port(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort)
                .findFirst().orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name));
    }

    @Test
    void everyContainerRunsAVacoCommandLine() {
        for (Container c : List.of(only(servers.getSpec().getTemplate()), only(trainer.getSpec().getTemplate()))) {
            List<String> a = args(c);
            // picocli refuses an unknown option or a missing value before anything runs
            CommandLine.ParseResult parsed = VacoCommand.commandLine().parseArgs(a.toArray(new String[0]));
            assertThat(parsed.subcommand()).as(c.getName()).isNotNull();
            assertThat(c.getImage()).isEqualTo("vaco:latest");
            assertThat(c.getCommand()).as("the image's entry point is the vaco command").isNullOrEmpty();
            var res = c.getResources();
            assertThat(res.getRequests()).as(c.getName() + " requests").containsKeys("cpu", "memory");
            assertThat(res.getLimits()).as(c.getName() + " limits").containsKeys("cpu", "memory");
        }
        assertThat(args(only(servers.getSpec().getTemplate())).get(0)).isEqualTo("serve");
        assertThat(args(only(trainer.getSpec().getTemplate())).get(0)).isEqualTo("train");
    }

    @Test
    void serversAreProbedAndServedOnThePortTheyListenOn() {
        Container c = only(servers.getSpec().getTemplate());
        List<String> a = args(c);
        int http = port(c, "http");
        assertThat(Integer.parseInt(flag(a, "--port"))).isEqualTo(http);
        assertThat(flag(a, "--host")).as("reachable from other pods").isEqualTo("0.0.0.0");
        for (Probe p : List.of(c.getReadinessProbe(), c.getLivenessProbe())) {
            assertThat(p.getHttpGet().getPath()).isEqualTo("/health");
            assertThat(p.getHttpGet().getPort().getStrVal()).isEqualTo("http");
        }
        Service api = (Service) byName.get("Service/vaco-server");
        ServicePort sp = api.getSpec().getPorts().get(0);
        assertThat(sp.getTargetPort().getStrVal()).isEqualTo("http");
        assertThat(servers.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(api.getSpec().getSelector());
        assertThat(servers.getSpec().getSelector().getMatchLabels())
                .isEqualTo(Map.of("app.kubernetes.io/component", "server"));
        assertThat(flag(a, "--model")).isEqualTo(mountOf(servers.getSpec().getTemplate().getSpec(), c, "model"));
    }

    @Test
    void serversAndTrainerJoinOneClusterThroughTheHeadlessService() {
        Service headless = (Service) byName.get("Service/vaco-cluster");
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
        ServicePort hz = headless.getSpec().getPorts().get(0);
        String cluster = null;
        for (PodTemplateSpec t : List.of(servers.getSpec().getTemplate(), trainer.getSpec().getTemplate())) {
            Container c = only(t);
            List<String> a = args(c);
            assertThat(t.getMetadata().getLabels()).as("found by the headless Service")
                    .containsAllEntriesOf(headless.getSpec().getSelector());
            cluster = cluster == null ? flag(a, "--cluster") : cluster;
            assertThat(flag(a, "--cluster")).isEqualTo(cluster);
            int port = Integer.parseInt(flag(a, "--cluster-port"));
            assertThat(port(c, "hazelcast")).isEqualTo(port).isEqualTo(hz.getPort());
            assertThat(hz.getTargetPort().getStrVal()).isEqualTo("hazelcast");
            assertThat(flag(a, "--cluster-kubernetes-service-dns"))
                    .isEqualTo(headless.getMetadata().getName() + ".rl.svc.cluster.local");
            assertThat(flag(a, "--cluster-host")).as("the pod's own address").isEqualTo("10.1.2.3");
            assertThat(a).as("discovery is by DNS, not a member list").doesNotContain("--cluster-members");
            assertThat(env(c, "POD_IP").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.podIP");
            assertThat(env(c, "POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
        }
    }

    @Test
    void bothSidesReadTheirSecretsFromOneSecret() {
        for (PodTemplateSpec t : List.of(servers.getSpec().getTemplate(), trainer.getSpec().getTemplate())) {
            Container c = only(t);
            // the CLI reads these variables as the defaults of --weights-token and --api-key
            for (String[] v : new String[][] {{"VACO_WEIGHTS_TOKEN", "weights-token"}, {"VACO_API_KEY", "api-key"}}) {
                var ref = env(c, v[0]).getValueFrom().getSecretKeyRef();
                assertThat(ref.getName()).isEqualTo("vaco-secrets");
                assertThat(ref.getKey()).isEqualTo(v[1]);
            }
            assertThat(args(c)).as("no secret on the command line").doesNotContain("--weights-token", "--api-key");
        }
    }

    @Test
    void everyMemberHoldsTheClusterKeystoreFromTheSecret() {
        for (PodTemplateSpec t : List.of(servers.getSpec().getTemplate(), trainer.getSpec().getTemplate())) {
            PodSpec pod = t.getSpec();
            Container c = only(t);
            List<String> a = args(c);
            String file = flag(a, "--cluster-keystore");
            String dir = mountOf(pod, c, "cluster-keystore");
            assertThat(file).startsWith(dir + "/");
            var secret = pod.getVolumes().stream().filter(v -> v.getName().equals("cluster-keystore")).findFirst()
                    .orElseThrow().getSecret();
            assertThat(secret.getSecretName()).isEqualTo("vaco-secrets");
            assertThat(secret.getItems()).anySatisfy(i -> {
                assertThat(i.getKey()).isEqualTo("cluster.p12");
                assertThat(dir + "/" + i.getPath()).isEqualTo(file);
            });
            // the image's user (uid 10001) reads the 0440 file through the pod's group, and no one else
            assertThat(secret.getDefaultMode()).isEqualTo(0440);
            assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(10001L);
            assertThat(c.getVolumeMounts().stream().filter(m -> m.getName().equals("cluster-keystore")).findFirst()
                    .orElseThrow().getReadOnly()).isTrue();
            var pw = env(c, "VACO_CLUSTER_KEYSTORE_PASSWORD").getValueFrom().getSecretKeyRef();
            assertThat(pw.getName()).isEqualTo("vaco-secrets");
            assertThat(pw.getKey()).isEqualTo("cluster-keystore-password");
            assertThat(a).as("no password on the command line").doesNotContain("--cluster-keystore-password");
        }
        assertThat(java.nio.file.Path.of("..", "docker", "Dockerfile")).content().contains("--uid 10001");
    }

    @Test
    void theTrainerResumesOntoAClaimedVolumeWithValidSettings() {
        PodSpec pod = trainer.getSpec().getTemplate().getSpec();
        Container c = only(trainer.getSpec().getTemplate());
        List<String> a = args(c);
        assertThat(a).as("a restarted pod continues its run").contains("--resume");
        assertThat(pod.getRestartPolicy()).isEqualTo("OnFailure");
        List<String> overrides = a.stream().filter(x -> x.contains("=") && !x.startsWith("-")).toList();
        TrainConfig cfg = ConfigLoader.load(overrides);
        String runs = mountOf(pod, c, "runs");
        assertThat(cfg.run().outDir()).startsWith(runs + "/");
        String claim = pod.getVolumes().stream().filter(v -> v.getName().equals("runs")).findFirst().orElseThrow()
                .getPersistentVolumeClaim().getClaimName();
        assertThat(byName).containsKey("PersistentVolumeClaim/" + claim);
        assertThat(cfg.run().model()).isEqualTo(mountOf(pod, c, "model"));
        assertThat(Path.of(cfg.run().dataset()).getParent().toString()).isEqualTo(mountOf(pod, c, "data"));
        assertThat(cfg.cluster().minServers()).isLessThanOrEqualTo(servers.getSpec().getReplicas());
        assertThat(pod.getTerminationGracePeriodSeconds()).as("time to finish a step and checkpoint").isGreaterThan(60);
    }

    @Test
    void theTrainersPageAndEveryPodsMetricsAreReachableOnThePortsTheyListenOn() {
        Container c = only(trainer.getSpec().getTemplate());
        List<String> a = args(c);
        int dashboard = port(c, "dashboard");
        assertThat(Integer.parseInt(flag(a, "--dashboard-port"))).isEqualTo(dashboard);
        TrainConfig cfg = ConfigLoader.load(a.stream().filter(x -> x.contains("=") && !x.startsWith("-")).toList());
        assertThat(cfg.dashboard().host()).as("reachable from other pods").isEqualTo("0.0.0.0");
        Service page = (Service) byName.get("Service/vaco-trainer");
        assertThat(page).isNotNull();
        assertThat(page.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo("dashboard");
        assertThat(trainer.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(page.getSpec().getSelector());
        assertThat(servers.getSpec().getTemplate().getMetadata().getLabels()).as("the page's Service selects no server")
                .doesNotContainEntry("app.kubernetes.io/component", page.getSpec().getSelector().get("app.kubernetes.io/component"));
        // Prometheus's pod discovery: each pod names the port its /metrics is on (the server's API, the trainer's page)
        for (var pod : List.of(Map.entry(servers.getSpec().getTemplate(), "http"), Map.entry(trainer.getSpec().getTemplate(), "dashboard"))) {
            Map<String, String> ann = pod.getKey().getMetadata().getAnnotations();
            assertThat(ann).containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/path", "/metrics");
            assertThat(ann.get("prometheus.io/port")).isEqualTo(String.valueOf(port(only(pod.getKey()), pod.getValue())));
        }
    }

    private static EnvVar env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no env " + name));
    }

    private static String mountOf(PodSpec pod, Container c, String volume) {
        assertThat(pod.getVolumes().stream().map(v -> v.getName())).contains(volume);
        return c.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).map(VolumeMount::getMountPath)
                .filter(Objects::nonNull).findFirst().orElseThrow(() -> new AssertionError(c.getName() + " mounts no " + volume));
    }
}
