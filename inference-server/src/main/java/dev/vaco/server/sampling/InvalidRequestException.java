package dev.vaco.server.sampling;

/** A request the server refuses: becomes HTTP 400 with {@code {"error": {"message", "type", "param"}}}. */
public final class InvalidRequestException extends RuntimeException {
    private final String field;

    public InvalidRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The request field at fault (OpenAI calls it {@code param}). */
    public String field() {
        return field;
    }
}
