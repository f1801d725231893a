package dev.vaco.chat;

/**
 * A chat template failed to compile (syntax error, with line and column) or to render (a runtime
 * error such as a type mismatch, or the template calling {@code raise_exception('msg')}, in which
 * case {@link #getMessage()} is exactly that message so callers can show it to users).
 */
public final class TemplateException extends RuntimeException {
    private final int line;
    private final int column;
    private final boolean raisedByTemplate;

    TemplateException(String message) {
        this(message, 0, 0);
    }

    TemplateException(String message, int line, int column) {
        this(message, line, column, false, null);
    }

    TemplateException(String message, Throwable cause) {
        this(message, 0, 0, false, cause);
    }

    private TemplateException(String message, int line, int column, boolean raised, Throwable cause) {
        super(message, cause);
        this.line = line;
        this.column = column;
        this.raisedByTemplate = raised;
    }

    /** The exception {@code raise_exception(msg)} throws: the message is exactly the template's. */
    static TemplateException raised(String message) {
        return new TemplateException(message, 0, 0, true, null);
    }

    /** Runtime error with the line of the statement that failed. */
    static TemplateException atLine(TemplateException e, int line) {
        return new TemplateException("line " + line + ": " + e.getMessage(), line, 0, false, e.getCause());
    }

    /**
     * True when the template itself called {@code raise_exception} (for example "Conversation roles
     * must alternate user/assistant"): the input conversation was rejected, the template is fine.
     */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }

    /** 1-based line of the error in the template source, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column of the error in the template source, or 0 when unknown. */
    public int column() {
        return column;
    }

    static TemplateException at(String message, int line, int column) {
        return new TemplateException(message + " (line " + line + ", column " + column + ")", line, column);
    }
}
