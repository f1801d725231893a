package dev.vaco.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.vaco.trainer.config.ConfigLoader;
import dev.vaco.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * docker/: no Docker engine runs on the build machines, so the images are not built here. What can drift without one
 * is checked: the Dockerfile lints (dockerfile-utils, from npm), the image's entry point and default command run (as the
 * same java command line on the test classpath), it starts the classpath the build stage copies, and every command in
 * the compose file parses as vaco arguments, its training overrides included.
 */
class DockerFilesTest {
    static final Path DOCKER = Path.of("..", "docker");

    private static List<String> instruction(List<String> lines, String name) {
        List<String> out = new ArrayList<>();
        for (String l : lines) if (l.startsWith(name + " ")) out.add(l.substring(name.length() + 1).trim());
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void theImageRunsTheCliItsBuildStageProduces() throws Exception {
        List<String> lines = Files.readAllLines(DOCKER.resolve("Dockerfile"));
        ObjectMapper json = new ObjectMapper();
        List<String> entry = strings(json.readTree(instruction(lines, "ENTRYPOINT").get(0)));
        List<String> cmd = strings(json.readTree(instruction(lines, "CMD").get(0)));
        assertThat(entry.get(0)).isEqualTo("java");
        assertThat(entry).contains("-Dai.djl.offline=true").endsWith("dev.vaco.cli.VacoCommand");
        String classpath = entry.get(entry.indexOf("-cp") + 1);

        // the classpath is what the build stage copies out of the cli module's package output
        List<String> copies = instruction(lines, "COPY").stream().filter(c -> c.startsWith("--from=build")).toList();
        assertThat(copies).containsExactly("--from=build /src/cli/target/vaco.jar /opt/vaco/vaco.jar",
                "--from=build /src/cli/target/lib/ /opt/vaco/lib/");
        assertThat(classpath).isEqualTo("/opt/vaco/vaco.jar:/opt/vaco/lib/*");
        String pom = Files.readString(Path.of("pom.xml"));
        assertThat(pom).contains("<finalName>vaco</finalName>").contains("<outputDirectory>${project.build.directory}/lib</outputDirectory>");

        // the entry point with the default command, on this module's classpath instead of /opt/vaco
        List<String> run = new ArrayList<>(entry);
        run.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
        run.set(entry.indexOf("-cp") + 1, System.getProperty("java.class.path"));
        run.addAll(cmd);
        run.add("--help");
        Process p = new ProcessBuilder(run).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("Usage: vaco " + cmd.get(0));
    }

    @Test
    void theDockerfileLints() throws Exception {
        Path lint = DOCKER.resolve("lint/node_modules/.bin/dockerfile-utils");
        assumeTrue(Files.isExecutable(lint), "dockerfile-utils not installed (npm ci --prefix docker/lint, as .ci/run does)");
        Process p = new ProcessBuilder(lint.toString(), "lint", DOCKER.resolve("Dockerfile").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    @Test
    void everyComposeCommandParsesAndAllThreeJoinOneCluster() throws Exception {
        JsonNode services = new YAMLMapper().readTree(DOCKER.resolve("compose.yaml").toFile()).path("services");
        assertThat(services.fieldNames()).toIterable().containsExactlyInAnyOrder("server-1", "server-2", "trainer");
        String cluster = null, members = null;
        for (var service : services.properties()) {
            List<String> args = strings(service.getValue().path("command"));
            // picocli rejects unknown options and missing values before anything runs
            VacoCommand.commandLine().parseArgs(args.toArray(new String[0]));
            // one cluster, joined through one member list naming every service at its cluster port
            cluster = cluster == null ? flag(args, "--cluster") : cluster;
            members = members == null ? flag(args, "--cluster-members") : members;
            assertThat(flag(args, "--cluster")).isEqualTo(cluster);
            assertThat(flag(args, "--cluster-members")).isEqualTo(members);
            assertThat(flag(args, "--cluster-host")).as("a member is reached at its service name").isEqualTo(service.getKey());
            assertThat(members.split(",")).contains(service.getKey() + ":" + flag(args, "--cluster-port"));
            // every member holds the cluster keystore, mounted read-only, its password from the environment
            String keystore = flag(args, "--cluster-keystore");
            assertThat(strings(service.getValue().path("volumes"))).as(service.getKey())
                    .anySatisfy(v -> assertThat(v).startsWith("${CLUSTER_KEYSTORE:?").endsWith(":" + keystore + ":ro"));
            assertThat(strings(service.getValue().path("environment"))).contains("VACO_CLUSTER_KEYSTORE_PASSWORD");
            assertThat(args).doesNotContain("--cluster-keystore-password");
        }
        List<String> train = strings(services.path("trainer").path("command"));
        assertThat(train.get(0)).isEqualTo("train");
        assertThat(train).as("a restarted container continues its run instead of being refused").contains("--resume");
        assertThat(train).as("the servers come from the cluster").doesNotContain("--server");
        for (String s : List.of("server-1", "server-2")) {
            List<String> serve = strings(services.path(s).path("command"));
            assertThat(serve.get(0)).isEqualTo("serve");
            assertThat(flag(serve, "--host")).as("reachable from the trainer's container").isEqualTo("0.0.0.0");
            assertThat(services.path("trainer").path("depends_on").path(s).path("condition").asText())
                    .isEqualTo("service_healthy");
            assertThat(services.path(s).path("healthcheck").path("test").toString()).contains("/" + flag(serve, "--port"));
        }
        // the training overrides are valid configuration keys and values, and wait for both servers
        List<String> overrides = train.stream().filter(a -> a.contains("=") && !a.startsWith("-")).toList();
        TrainConfig cfg = ConfigLoader.load(overrides);
        assertThat(cfg.run().evalDataset()).isEqualTo("/data/gsm8k_test.jsonl");
        assertThat(cfg.cluster().minServers()).isEqualTo(2);
        // the run's live page and the trainer's /metrics, published on the host at the port the trainer listens on
        String dashboard = flag(train, "--dashboard-port");
        assertThat(cfg.dashboard().host()).as("reachable through the published port").isEqualTo("0.0.0.0");
        assertThat(strings(services.path("trainer").path("ports"))).as("the page, on the host's loopback")
                .contains("127.0.0.1:" + dashboard + ":" + dashboard);
    }

    private static String flag(List<String> args, String name) {
        int i = args.indexOf(name);
        assertThat(i).as(name + " in " + args).isNotNegative();
        return args.get(i + 1);
    }
}
