package dev.vaco.model;

/** A configuration value that is unknown, mistyped or out of range; the message starts with its key path. */
public final class ConfigException extends IllegalArgumentException {
    private final String keyPath;

    public ConfigException(String keyPath, String problem) {
        super(keyPath + ": " + problem);
        this.keyPath = keyPath;
    }

    /** e.g. {@code objective.delta}. */
    public String keyPath() {
        return keyPath;
    }

    /** Throws unless {@code ok}: "{@code key}: expected {@code expected}, found {@code found}". */
    public static void require(boolean ok, String key, String expected, Object found) {
        if (!ok) throw new ConfigException(key, "expected " + expected + ", found " + found);
    }
}
