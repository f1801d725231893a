package dev.vaco.server.sampling;

/**
 * A request the server refuses: becomes HTTP 400 (or the given 4xx: 404 for an unknown version, 409 for a conflict
 * with the server's state; or 502/504 when the peers a weight fetch names failed or never answered) with {@code {"error": {"message", "type", "param"}}}.
 */
public final class InvalidRequestException extends RuntimeException {
    private final String field;
    private final int status;

    public InvalidRequestException(String field, String message) {
        this(400, field, message);
    }

    public InvalidRequestException(int status, String field, String message) {
        super(message);
        if ((status < 400 || status > 499) && status != 502 && status != 504) {
            throw new IllegalArgumentException("a refused request is a 4xx (or 502/504), found " + status);
        }
        this.field = field;
        this.status = status;
    }

    /** The request field at fault (OpenAI calls it {@code param}). */
    public String field() {
        return field;
    }

    /** The HTTP status it becomes. */
    public int status() {
        return status;
    }
}
