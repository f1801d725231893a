package dev.vaco.cli;

import dev.vaco.fleet.ClusterConfig;
import dev.vaco.fleet.ClusterNode;
import dev.vaco.fleet.ClusterPorts;
import dev.vaco.fleet.FleetView;
import dev.vaco.model.ModelInit;
import dev.vaco.trainer.pipeline.Ledger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vaco serve --cluster} and {@code vaco train --cluster} as real processes on loopback: the server announces
 * itself, the trainer finds it through the cluster and trains; a server stopped with SIGTERM leaves the cluster. Bad
 * cluster settings exit 2 with one line naming the flag or key.
 */
class ClusterCommandTest {
    @TempDir Path dir;
    private String keystore;


    private static String[] run(String... args) {
        StringWriter err = new StringWriter();
        var cl = VacoCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        return new String[] {Integer.toString(rc), err.toString()};
    }

    @Test
    void badClusterSettingsExitTwoNamingTheFlagOrKey() throws Exception {
        Path model = dir.resolve("model");
        ModelInit.initTiny(model, 1);
        String[] serve = run("serve", "--model", model.toString(), "--port", "0", "--cluster", "c",
                "--cluster-members", "127.0.0.1:5701,host:notaport");
        assertThat(serve[0]).isEqualTo("2");
        assertThat(serve[1].strip()).startsWith("vaco serve: --cluster-members: expected").contains("'host:notaport'")
                .doesNotContain("\n");
        String[] train = run("train", "run.out_dir=" + dir.resolve("r"), "cluster.name=c", "cluster.members=a b");
        assertThat(train[0]).isEqualTo("2");
        assertThat(train[1].strip()).startsWith("vaco train: cluster.members: expected").doesNotContain("\n");
        String[] flag = run("train", "run.out_dir=" + dir.resolve("r"), "--cluster", "c", "--cluster-port", "99999");
        assertThat(flag[0]).isEqualTo("2");
        assertThat(flag[1]).contains("cluster.port: expected a port in [1, 65535], found 99999");
        String[] noName = run("train", "run.out_dir=" + dir.resolve("r"), "cluster.members=127.0.0.1:5701");
        assertThat(noName[0]).isEqualTo("2");
        assertThat(noName[1]).contains("cluster.name: expected a cluster name");

        // the shared keystore: missing, not a keystore, the wrong password; named by the flag (serve) or key (train)
        Path ks = keystore("right-password");
        Path notOne = Files.writeString(dir.resolve("notes.txt"), "not a keystore");
        String[][] bad = {
                {"--cluster-keystore", dir.resolve("missing.p12").toString(), "--cluster-keystore: expected a PKCS#12 keystore file, found no such file"},
                {"--cluster-keystore", notOne.toString(), "--cluster-keystore: expected a PKCS#12 keystore file"},
                {"--cluster-keystore", ks.toString(), "--cluster-keystore-password: expected the password of"}};
        for (String[] b : bad) {
            String[] r = run("serve", "--model", model.toString(), "--port", "0", "--cluster", "c", b[0], b[1],
                    "--cluster-keystore-password", "wrong-password");
            assertThat(r[0]).as(r[1]).isEqualTo("2");
            assertThat(r[1].strip()).startsWith("vaco serve: " + b[2]).doesNotContain("\n").doesNotContain("wrong-password");
        }
        String[] trainKs = run("train", "run.out_dir=" + dir.resolve("r"), "--cluster", "c", "--cluster-keystore",
                ks.toString(), "--cluster-keystore-password", "wrong-password");
        assertThat(trainKs[0]).isEqualTo("2");
        assertThat(trainKs[1].strip()).startsWith("vaco train: cluster.keystore_password: expected the password of")
                .doesNotContain("\n").doesNotContain("wrong-password");
        String[] noCluster = run("train", "run.out_dir=" + dir.resolve("r"), "cluster.keystore=" + ks);
        assertThat(noCluster[0]).isEqualTo("2");
        assertThat(noCluster[1]).contains("cluster.keystore: expected \"\" unless cluster.name is set");
    }

    /**
     * A trainer whose servers never come: it gives up after {@code cluster.server_wait_s} naming what it waited for, and
     * a scheduler's SIGTERM ends the wait at once (before, the wait was a fixed 5 minutes that no signal cut short).
     */
    @Test
    @Timeout(300)
    void trainerWaitingForServersGivesUpInTimeOrOnSigterm() throws Exception {
        String[] common = {"train", "--weights-token", "tok", "--cluster", "lonely", "run.steps=2", "optim.warmup_steps=0",
                "sft.steps=1", "sft.warmup_steps=0"};
        List<String> giveUp = new ArrayList<>(List.of(common));
        giveUp.addAll(List.of("--cluster-port", Integer.toString(ClusterPorts.free()), "run.out_dir=" + dir.resolve("a"),
                "cluster.server_wait_s=2"));
        Process p = vaco(dir.resolve("a.log"), giveUp.toArray(String[]::new));
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String log = Files.readString(dir.resolve("a.log"));
        assertThat(p.exitValue()).as(log).isNotZero();
        assertThat(log).contains("cluster 'lonely': 0 of 1 inference servers announced after 2 s");

        List<String> stop = new ArrayList<>(List.of(common));
        stop.addAll(List.of("--cluster-port", Integer.toString(ClusterPorts.free()), "run.out_dir=" + dir.resolve("b")));
        Process q = vaco(dir.resolve("b.log"), stop.toArray(String[]::new));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!Files.readString(dir.resolve("b.log")).contains("waiting for 1 inference server") && q.isAlive()
                && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(q.isAlive()).as(Files.readString(dir.resolve("b.log"))).isTrue();
        long t0 = System.nanoTime();
        q.destroy(); // SIGTERM
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).as("the wait of 300 s must end on SIGTERM").isTrue();
        assertThat(q.exitValue()).as(Files.readString(dir.resolve("b.log"))).isEqualTo(143);
        System.out.printf("SIGTERM ended the wait for servers in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** A cluster keystore made as the README says, with the JDK's keytool. */
    private Path keystore(String password) throws Exception {
        Path file = dir.resolve("cluster.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "vaco-cluster", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2", "-dname",
                "CN=vaco-cluster", "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", password)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        return file;
    }

    private Process vaco(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "dev.vaco.cli.VacoCommand"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    @Timeout(600)
    void serveAndTrainJoinOneClusterAndTrain() throws Exception {
        Path model = dir.resolve("model");
        ModelInit.initTiny(model, 1);
        int seed = ClusterPorts.free();
        String members = "127.0.0.1:" + seed;
        keystore = keystore("cluster-pw").toString(); // every member holds it: TLS event bus, signed announcements
        Process serve = serve(model, "serve.log", members), doomed = serve(model, "doomed.log", members);
        // the test's own member first: the others join through it, and it watches the fleet
        try (ClusterNode watcher = ClusterNode.join(ClusterConfig.tcp("cli-test", "127.0.0.1", seed, members)
                .withKeystore(keystore, "cluster-pw"));
             FleetView view = FleetView.open(watcher)) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (view.servers().size() < 2 && serve.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(view.servers()).as(Files.readString(dir.resolve("serve.log"))).hasSize(2);
            String url = url(dir.resolve("serve.log"));
            var announced = view.servers().values().stream().filter(a -> a.url().equals(url)).findFirst().orElseThrow();
            assertThat(announced.url()).startsWith("http://127.0.0.1:");
            assertThat(announced.model()).isEqualTo("model");
            assertThat(announced.maxNumSeqs()).isEqualTo(16);

            Path run = dir.resolve("run");
            // the servers require an API key: the trainer must send it to every server the cluster names
            Process train = vaco(dir.resolve("train.log"), "train", "--weights-token", "tok", "--api-key", "key",
                    "--cluster", "cli-test", "--cluster-keystore", keystore, "--cluster-keystore-password", "cluster-pw",
                    "--cluster-port", Integer.toString(ClusterPorts.free()), "--cluster-members", members,
                    "run.out_dir=" + run, "run.steps=3", "run.eval_every=0", "run.eval_problems=4", "sft.steps=2",
                    "sft.warmup_steps=1", "sft.batch_size=4", "rollout.prompts_per_step=2", "rollout.group_size=4",
                    "rollout.max_tokens=12", "optim.warmup_steps=0", "pipeline.canary_prompts=1");
            assertThat(train.waitFor(8, TimeUnit.MINUTES)).isTrue();
            String log = Files.readString(dir.resolve("train.log"));
            assertThat(train.exitValue()).as(log).isZero();
            assertThat(log).contains("cluster cli-test: member").contains("cluster: server " + announced.url() + " joined")
                    .contains("cluster cli-test: event bus over mutual TLS, server announcements signed (CN=vaco-cluster")
                    .doesNotContain("refused member").doesNotContain("refused server announcement");
            assertThat(Files.readString(dir.resolve("serve.log"))).contains("event bus over mutual TLS")
                    .doesNotContain("refused member");
            assertThat(Ledger.trainedCounts(run.resolve("ledger.jsonl")).values()).hasSize(6).containsOnly(1);
            // version 1 = the warm start, then one per step: the servers the cluster named are the ones trained against
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (view.servers().values().stream().anyMatch(a -> a.liveVersion() != 4) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            for (var a : view.servers().values()) assertThat(a.liveVersion()).as(a.url()).isEqualTo(4);

            long t0 = System.nanoTime();
            serve.destroy(); // SIGTERM: withdraw the announcement, leave the cluster, drain
            while (view.servers().size() > 1 && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20)) Thread.sleep(20);
            assertThat(view.servers()).hasSize(1);
            double leave = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            doomed.destroyForcibly(); // kill -9: no goodbye; Hazelcast notices the closed connections
            while (!view.servers().isEmpty() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) Thread.sleep(20);
            assertThat(view.servers()).isEmpty();
            System.out.printf("vaco serve leaving the cluster, seen by another member: SIGTERM %.2f s, kill -9 %.2f s%n",
                    leave, (System.nanoTime() - t0) / 1e9);
            assertThat(serve.waitFor(2, TimeUnit.MINUTES)).isTrue();
            assertThat(serve.exitValue()).isEqualTo(143);
        } finally {
            serve.destroyForcibly();
            doomed.destroyForcibly();
        }
    }

    private Process serve(Path model, String log, String members) throws IOException {
        return vaco(dir.resolve(log), "serve", "--model", model.toString(), "--port", "0", "--weights-token", "tok",
                "--api-key", "key",
                "--max-num-seqs", "16", "--threads", "1", "--max-model-len", "256", "--cluster", "cli-test",
                "--cluster-keystore", keystore, "--cluster-keystore-password", "cluster-pw",
                "--cluster-port", Integer.toString(ClusterPorts.free()), "--cluster-members", members);
    }

    /** The URL a {@code vaco serve} printed on its first line. */
    private static String url(Path log) throws IOException {
        String first = Files.readAllLines(log).stream().filter(l -> l.startsWith("vaco serve: http://")).findFirst().orElseThrow();
        return first.substring("vaco serve: ".length(), first.indexOf(' ', "vaco serve: ".length()));
    }

    @Test
    void printConfigShowsTheClusterKeysWithThePasswordMasked() throws Exception {
        var cl = VacoCommand.commandLine();
        var old = System.out;
        var buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true));
        try {
            assertThat(cl.execute("train", "--print-config", "--cluster", "c", "--cluster-members", "10.0.0.5:5701",
                    "--cluster-keystore", keystore("s3cret-pw").toString(), "--cluster-keystore-password", "s3cret-pw")).isZero();
        } finally {
            System.setOut(old);
        }
        assertThat(buf.toString()).contains("\"cluster\"", "\"name\" : \"c\"", "\"members\" : \"10.0.0.5:5701\"",
                "\"host\" : \"127.0.0.1\"", "\"port\" : 5701", "\"kubernetes_service_dns\"", "\"kubernetes_service_name\"",
                "\"kubernetes_namespace\"", "\"min_servers\" : 1", "\"keystore\" : \"" + dir.resolve("cluster.p12") + "\"",
                "\"keystore_password\" : \"********\"").doesNotContain("s3cret-pw");
    }
}
