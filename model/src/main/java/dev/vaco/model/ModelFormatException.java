package dev.vaco.model;

/** A model directory that cannot be read as it is: the message names the file, the tensor and what was expected. */
public final class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
