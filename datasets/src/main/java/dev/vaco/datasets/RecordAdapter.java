package dev.vaco.datasets;

/**
 * Turns one raw record of some published layout into a {@link Problem}. Implementations throw
 * {@link DatasetFormatException} (via {@link RawRecord#error}) naming the offending field.
 */
@FunctionalInterface
public interface RecordAdapter {

    /**
     * @param record the raw record with its location
     * @param source the source name to stamp on the problem (e.g. the file stem)
     */
    Problem adapt(RawRecord record, String source);

    /** The columns this adapter reads; loaders may read only these (Parquet projection). Empty = all. */
    default java.util.Set<String> columns() {
        return java.util.Set.of();
    }
}
