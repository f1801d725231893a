package dev.vaco.reward;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One default verifier shared by the tests of a class (its worker threads are started once). */
abstract class VerifierFixture {
    static Verifier v;

    @BeforeAll
    static void startVerifier() {
        v = new Verifier(VerifierConfig.defaults());
    }

    @AfterAll
    static void stopVerifier() {
        v.close();
    }
}
