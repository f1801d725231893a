package dev.vaco.reward;

/** A size cap or the deadline was hit; becomes a verdict, never escapes {@link Verifier}. */
public class LimitExceededException extends RuntimeException {
    public LimitExceededException(String message) {
        super(message, null, false, false);
    }
}
