package dev.vaco.reward;

/** The answer text is not something the LaTeX parser understands. */
public final class ParseException extends RuntimeException {
    public ParseException(String message) {
        super(message, null, false, false);
    }
}
