package dev.vaco.server.batch;

/** The bounded request queue is full: the client should retry later (HTTP 429 with Retry-After). */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(String message) {
        super(message);
    }
}
