package dev.vaco.datasets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Reads Parquet files (as the Hugging Face Hub publishes them) through parquet-java's
 * {@link ParquetFileReader} on a {@link LocalInputFile}, with {@link ParquetCodecs} instead of Hadoop's
 * codecs. Only the top-level columns the adapter names are read (projection), so large unused columns
 * cost nothing. Row numbers in messages are 1-based across all row groups.
 */
public final class ParquetLoader {

    private ParquetLoader() {
    }

    public static List<Problem> load(Path file, RecordAdapter adapter, String source) {
        return load(file, adapter, source, 0);
    }

    /** @param firstIndex record index of the first row (shards of one split continue each other's numbering) */
    static List<Problem> load(Path file, RecordAdapter adapter, String source, long firstIndex) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new DatasetFormatException(name + ": no such file");
        }
        ParquetReadOptions options = ParquetReadOptions.builder(new PlainParquetConfiguration())
                .withCodecFactory(new ParquetCodecs())
                .build();
        ParquetFileReader reader;
        try {
            reader = new ParquetFileReader(new LocalInputFile(file), options);
        } catch (IOException | RuntimeException e) {
            throw new DatasetFormatException(name + ": footer: not a readable Parquet file (truncated or corrupt?): "
                    + e.getMessage(), e);
        }
        List<Problem> out = new ArrayList<>();
        try (reader) {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            MessageType projection = project(schema, adapter.columns());
            reader.setRequestedSchema(projection);
            long row = 0;
            int group = 0;
            while (true) {
                PageReadStore pages;
                try {
                    pages = reader.readNextRowGroup();
                } catch (IOException | RuntimeException e) {
                    throw new DatasetFormatException(name + ": row group " + (group + 1) + " (from row " + (row + 1)
                            + "): cannot read: " + e.getMessage(), e);
                }
                if (pages == null) {
                    break;
                }
                group++;
                long rows = pages.getRowCount();
                RecordReader<Group> records = projection.getFieldCount() == 0 ? null
                        : new ColumnIOFactory().getColumnIO(projection, schema)
                                .getRecordReader(pages, new GroupRecordConverter(projection));
                for (long i = 0; i < rows; i++) {
                    String position = "row " + (row + 1);
                    Map<String, Object> fields;
                    try {
                        fields = records == null ? new LinkedHashMap<>() : toMap(records.read(), projection);
                    } catch (RuntimeException e) {
                        throw new DatasetFormatException(name + ": " + position + ": cannot decode: " + e.getMessage(), e);
                    }
                    out.add(Loaders.adapt(adapter, new RawRecord(fields, name, position, firstIndex + row), source));
                    row++;
                }
            }
        } catch (IOException e) {
            throw new DatasetFormatException(name + ": cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DatasetFormatException(name + ": no records (the Parquet file has 0 rows)");
        }
        return out;
    }

    private static MessageType project(MessageType schema, Set<String> wanted) {
        if (wanted.isEmpty()) {
            return schema;
        }
        List<Type> keep = new ArrayList<>();
        for (Type t : schema.getFields()) {
            if (wanted.contains(t.getName())) {
                keep.add(t);
            }
        }
        return new MessageType(schema.getName(), keep);
    }

    private static Map<String, Object> toMap(Group g, MessageType projection) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int f = 0; f < projection.getFieldCount(); f++) {
            Type t = projection.getType(f);
            int count = g.getFieldRepetitionCount(f);
            if (count == 0) {
                m.put(t.getName(), null);
                continue;
            }
            if (!t.isPrimitive() || t.isRepetition(Type.Repetition.REPEATED)) {
                // Nested or repeated columns are not Problem fields; keep a shape the error messages can name.
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    items.add(t.isPrimitive() ? g.getValueToString(f, i) : g.getGroup(f, i).toString());
                }
                m.put(t.getName(), items);
                continue;
            }
            PrimitiveType p = t.asPrimitiveType();
            Object v;
            switch (p.getPrimitiveTypeName()) {
                case BINARY:
                case FIXED_LEN_BYTE_ARRAY:
                    v = g.getString(f, 0);
                    break;
                case INT32:
                    v = (long) g.getInteger(f, 0);
                    break;
                case INT64:
                    v = g.getLong(f, 0);
                    break;
                case BOOLEAN:
                    v = g.getBoolean(f, 0);
                    break;
                case FLOAT:
                    v = (double) g.getFloat(f, 0);
                    break;
                case DOUBLE:
                    v = g.getDouble(f, 0);
                    break;
                default:
                    v = g.getValueToString(f, 0);
            }
            m.put(t.getName(), v);
        }
        return m;
    }
}
