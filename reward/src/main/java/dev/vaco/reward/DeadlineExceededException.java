package dev.vaco.reward;

/** Thrown by {@link Deadline#check()} so that a cancelled comparison unwinds its own thread. */
public final class DeadlineExceededException extends LimitExceededException {
    public DeadlineExceededException() {
        super("deadline exceeded");
    }
}
