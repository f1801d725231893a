package dev.vaco.reward;

import java.time.Duration;

/**
 * Cooperative deadline. Future.cancel(true) only sets the interrupt flag, which pure computation
 * never looks at, so the parser and evaluator poll this object in every loop instead.
 */
public final class Deadline {
    private final long deadlineNanos;
    private volatile boolean cancelled;

    private Deadline(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    public static Deadline after(Duration d) {
        return new Deadline(System.nanoTime() + d.toNanos());
    }

    public static Deadline none() {
        return new Deadline(Long.MAX_VALUE);
    }

    public void cancel() {
        cancelled = true;
    }

    public void check() {
        if (cancelled || (deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos > 0)
                || Thread.currentThread().isInterrupted()) {
            throw new DeadlineExceededException();
        }
    }
}
