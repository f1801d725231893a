package dev.vaco.datasets;

/**
 * A dataset file or record does not have the expected shape. The message always names the file, the
 * position (JSONL line or Parquet row, 1-based) and, when one is at fault, the field.
 */
public class DatasetFormatException extends RuntimeException {

    public DatasetFormatException(String message) {
        super(message);
    }

    public DatasetFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
