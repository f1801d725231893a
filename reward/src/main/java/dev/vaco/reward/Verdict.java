package dev.vaco.reward;

/**
 * Outcome of one comparison. {@code gold}/{@code pred} are the extracted answers (null when none was found).
 */
public record Verdict(Status status, String gold, String pred, String version, String detail) {

    public enum Status { CORRECT, WRONG, NO_ANSWER, UNPARSEABLE, TIMEOUT }

    public Verdict {
        if (status == null) {
            throw new IllegalArgumentException("status: expected a Status, found null");
        }
    }

    public boolean correct() {
        return status == Status.CORRECT;
    }

    /** 1 for CORRECT, 0 otherwise: a timeout or an unparseable answer earns nothing. */
    public double reward() {
        return correct() ? 1.0 : 0.0;
    }
}
