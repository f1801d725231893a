package dev.vaco.datasets;

/** Shared glue for the loaders: turning a validation failure of a record into a located error. */
final class Loaders {

    private Loaders() {
    }

    static Problem adapt(RecordAdapter adapter, RawRecord record, String source) {
        try {
            return adapter.adapt(record, source);
        } catch (DatasetFormatException e) {
            throw e;
        } catch (IllegalArgumentException | NullPointerException e) {
            // Problem's compact constructor rejected the adapted values: still say where.
            throw new DatasetFormatException(record.file() + ": " + record.position() + ": " + e.getMessage(), e);
        }
    }
}
