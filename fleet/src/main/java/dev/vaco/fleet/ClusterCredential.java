package dev.vaco.fleet;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.X509Certificate;
import java.util.Collections;

/**
 * The secret every member of one cluster shares ({@code cluster.keystore}): a PKCS#12 keystore holding one key pair and
 * its certificate. The event bus runs over TLS with it (key, and the only certificate trusted), and servers sign their
 * announcements with its key, which readers check against its certificate. Holding the file is what makes a process a
 * member; Hazelcast's own member protocol (open source edition) cannot check it, so only the layers above it can.
 *
 * @param path        the keystore file
 * @param password    its password (also the key's, as {@code keytool} makes PKCS#12 stores)
 * @param key         the shared private key
 * @param certificate the shared certificate
 */
public record ClusterCredential(Path path, String password, PrivateKey key, X509Certificate certificate) {
    /**
     * Loads {@code path}; every failure names the key it comes from ({@code cluster.keystore} or
     * {@code cluster.keystore_password}), as the configuration's other errors do.
     */
    public static ClusterCredential load(String path, String password) {
        Path p = Path.of(path).toAbsolutePath();
        char[] pw = password.toCharArray();
        KeyStore ks;
        try (InputStream in = Files.newInputStream(p)) {
            ks = KeyStore.getInstance("PKCS12");
            ks.load(in, pw);
        } catch (NoSuchFileException e) {
            throw bad("cluster.keystore", "a PKCS#12 keystore file", "no such file " + p);
        } catch (AccessDeniedException e) {
            throw bad("cluster.keystore", "a readable PKCS#12 keystore file", "no permission to read " + p);
        } catch (IOException e) {
            // PKCS12 reports a wrong password as an IOException caused by UnrecoverableKeyException
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw bad("cluster.keystore_password", "the password of " + p, "a wrong password");
            }
            throw bad("cluster.keystore", "a PKCS#12 keystore file", p + " (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw bad("cluster.keystore", "a PKCS#12 keystore file", p + " (" + e.getMessage() + ")");
        }
        try {
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias) && ks.getKey(alias, pw) instanceof PrivateKey k
                        && ks.getCertificate(alias) instanceof X509Certificate c) {
                    return new ClusterCredential(p, password, k, c);
                }
            }
        } catch (UnrecoverableKeyException e) {
            throw bad("cluster.keystore_password", "the password of the key in " + p, "a wrong password");
        } catch (GeneralSecurityException e) {
            throw bad("cluster.keystore", "a PKCS#12 keystore with a key entry", p + " (" + e.getMessage() + ")");
        }
        throw bad("cluster.keystore", "a keystore holding a key pair and its certificate (keytool -genkeypair)",
                p + " with no key entry");
    }

    private static IllegalArgumentException bad(String key, String expected, String found) {
        return new IllegalArgumentException(key + ": expected " + expected + ", found " + found);
    }

    /** The signature algorithm the key allows. */
    private static String algorithm(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("cluster.keystore: expected an EC, RSA or Ed25519 key, found "
                    + keyAlgorithm);
        };
    }

    /** Signs {@code data} with the shared key. */
    public byte[] sign(byte[] data) {
        try {
            Signature s = Signature.getInstance(algorithm(key.getAlgorithm()));
            s.initSign(key);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the cluster key: " + e.getMessage(), e);
        }
    }

    /** Whether {@code signature} over {@code data} was made with the key of the shared certificate. */
    public boolean verifies(byte[] data, byte[] signature) {
        PublicKey pub = certificate.getPublicKey();
        try {
            Signature s = Signature.getInstance(algorithm(pub.getAlgorithm()));
            s.initVerify(pub);
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false; // a malformed signature is no signature
        }
    }

    @Override
    public String toString() {
        return "ClusterCredential[" + path + ", " + certificate.getSubjectX500Principal().getName() + "]";
    }
}
