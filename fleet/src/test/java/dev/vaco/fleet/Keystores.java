package dev.vaco.fleet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Cluster keystores made at test time by the JDK's own {@code keytool}, as the README tells an operator to: none is committed. */
final class Keystores {
    private Keystores() {}

    /** A PKCS#12 keystore {@code dir/name.p12} with one fresh EC key pair and its self-signed certificate. */
    static Path make(Path dir, String name, String password) throws IOException, InterruptedException {
        Path file = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", "vaco-cluster", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "2", "-dname", "CN=" + name, "-storetype", "PKCS12",
                "-keystore", file.toString(), "-storepass", password, "-keypass", password))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("keytool: " + out);
        return file;
    }
}
