package dev.vaco.server.engine;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, model-agnostic writer of ONNX graphs: nodes with generated output names, graph inputs/outputs with
 * symbolic dimensions, small constants stored inline, and large initializers declared as <em>external</em> so that
 * the proto stays a few KB and the data is handed to ONNX Runtime from memory at session creation
 * ({@code SessionOptions.addExternalInitializers}).
 */
final class OnnxGraphBuilder {
    static final String MS_DOMAIN = "com.microsoft";
    /** ONNX opset of the default domain: 17 has Unsqueeze/Reshape with tensor inputs and GatherND batch_dims. */
    static final int ONNX_OPSET = 17;
    /** A location that is never read: every external initializer is overridden from memory. */
    private static final String EXTERNAL_LOCATION = "vaco-in-memory-weights";

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Map<String, Integer> counters = new LinkedHashMap<>();
    /** Weights declared quantized, by their fp32 name. */
    private final Map<String, NBits> nBits = new LinkedHashMap<>();

    OnnxGraphBuilder(String name) {
        graph.setName(name);
    }

    /** A fresh value name with a readable prefix, unique in this graph. */
    String fresh(String prefix) {
        int n = counters.merge(prefix, 1, Integer::sum);
        return prefix + "_" + n;
    }

    // ---------------------------------------------------------------- graph inputs and outputs

    /** @param dims a {@code Long} for a fixed size or a {@code String} for a symbolic one */
    void input(String name, TensorProto.DataType type, Object... dims) {
        graph.addInput(valueInfo(name, type, dims));
    }

    void output(String name, TensorProto.DataType type, Object... dims) {
        graph.addOutput(valueInfo(name, type, dims));
    }

    private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) dim.setDimParam(s);
            else dim.setDimValue(((Number) d).longValue());
            shape.addDim(dim);
        }
        TypeProto.Tensor tensorType = TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tensorType)).build();
    }

    // ---------------------------------------------------------------- initializers

    /**
     * Declares an fp32 initializer whose data ONNX Runtime must receive from memory under the same name. The offset and
     * length are those the data would have in a file, so the proto stays valid for tools that check them.
     */
    void externalFloat(String name, long... shape) {
        external(name, TensorProto.DataType.FLOAT, 4, shape);
    }

    private void external(String name, TensorProto.DataType type, int elementBytes, long... shape) {
        long numel = 1;
        for (long d : shape) numel *= d;
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL);
        for (long d : shape) t.addDims(d);
        t.addExternalData(entry("location", EXTERNAL_LOCATION));
        t.addExternalData(entry("offset", "0"));
        t.addExternalData(entry("length", Long.toString(numel * elementBytes)));
        graph.addInitializer(t);
    }

    /**
     * Declares the block-quantized form of an [n, k] weight (data, scales and zero points under
     * {@link #nBitsData}, {@link #nBitsScales}, {@link #nBitsZeroPoints}, shaped as {@link BlockQuantizer} makes
     * them); {@link #linear} then multiplies by it with MatMulNBits.
     */
    void externalNBits(String weight, long n, long k, Quantization s) {
        external(nBitsData(weight), TensorProto.DataType.UINT8, 1, n, s.blocks(k), s.blobBytes());
        external(nBitsScales(weight), TensorProto.DataType.FLOAT, 4, n * s.blocks(k));
        external(nBitsZeroPoints(weight), TensorProto.DataType.UINT8, 1, n * s.zeroPointBytesPerRow(k));
        nBits.put(weight, new NBits(n, k, s));
    }

    static String nBitsData(String weight) { return weight + ".q"; }
    static String nBitsScales(String weight) { return weight + ".scales"; }
    static String nBitsZeroPoints(String weight) { return weight + ".zero_points"; }

    /**
     * y = x W^T (+ b) for x [M, k] and a weight W [n, k] declared fp32 (one Gemm, transB=1, which ORT prepacks) or
     * quantized ({@link #externalNBits}: MatMulNBits, the bias then a separate Add).
     */
    String linear(String x, String weight, String bias) {
        NBits q = nBits.get(weight);
        if (q == null) return op("Gemm", bias == null ? List.of(x, weight) : List.of(x, weight, bias), Attr.i("transB", 1));
        String y = msOp("MatMulNBits", List.of(x, nBitsData(weight), nBitsScales(weight), nBitsZeroPoints(weight)),
                new boolean[] {true},
                Attr.i("K", q.k), Attr.i("N", q.n), Attr.i("bits", q.scheme.bits()), Attr.i("block_size", q.scheme.blockSize()),
                Attr.i("accuracy_level", q.scheme.accuracyLevel())).get(0);
        return bias == null ? y : op("Add", List.of(y, bias));
    }

    private record NBits(long n, long k, Quantization scheme) {}

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** A small int64 constant stored inline (shapes, axes, indices). */
    String constInts(String prefix, long[] shape, long... values) {
        String name = fresh(prefix);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        b.flip();
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64.getNumber())
                .setRawData(ByteString.copyFrom(b));
        for (long d : shape) t.addDims(d);
        graph.addInitializer(t);
        return name;
    }

    /** A scalar fp32 constant stored inline. */
    String constFloat(String prefix, float value) {
        String name = fresh(prefix);
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).flip();
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT.getNumber())
                .setRawData(ByteString.copyFrom(b)));
        return name;
    }

    /** A 1-D int64 constant. */
    String constVector(String prefix, long... values) {
        return constInts(prefix, new long[] {values.length}, values);
    }

    // ---------------------------------------------------------------- nodes

    /** Adds a node of the default domain with one output; returns the output name. */
    String op(String opType, List<String> inputs, Attr... attrs) {
        return opIn("", opType, inputs, 1, attrs).get(0);
    }

    /** Adds a node of the default domain with several outputs. */
    List<String> ops(String opType, List<String> inputs, int outputs, Attr... attrs) {
        return opIn("", opType, inputs, outputs, attrs);
    }

    /** Adds a com.microsoft contrib node; output names are generated, "" marks an output that is not wanted. */
    List<String> msOp(String opType, List<String> inputs, boolean[] wantedOutputs, Attr... attrs) {
        return node(MS_DOMAIN, opType, inputs, wantedOutputs, attrs);
    }

    private List<String> opIn(String domain, String opType, List<String> inputs, int outputs, Attr... attrs) {
        boolean[] wanted = new boolean[outputs];
        java.util.Arrays.fill(wanted, true);
        return node(domain, opType, inputs, wanted, attrs);
    }

    /** Adds a node with explicitly named outputs (graph outputs or wired names). */
    void nodeNamed(String domain, String opType, List<String> inputs, List<String> outputs, Attr... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setDomain(domain).setName(fresh(opType + "_node"));
        n.addAllInput(inputs);
        n.addAllOutput(outputs);
        for (Attr a : attrs) n.addAttribute(a.proto());
        graph.addNode(n);
    }

    private List<String> node(String domain, String opType, List<String> inputs, boolean[] wantedOutputs, Attr... attrs) {
        List<String> outs = new ArrayList<>();
        for (boolean w : wantedOutputs) outs.add(w ? fresh(opType.toLowerCase()) : "");
        // ONNX drops trailing empty outputs; keep the list tidy so the checker sees no dangling names.
        int last = outs.size();
        while (last > 0 && outs.get(last - 1).isEmpty()) last--;
        nodeNamed(domain, opType, inputs, outs.subList(0, last), attrs);
        return outs;
    }

    ModelProto build() {
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("vaco")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(ONNX_OPSET))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1))
                .setGraph(graph)
                .build();
    }

    // ---------------------------------------------------------------- attributes

    /** One node attribute. */
    record Attr(AttributeProto proto) {
        static Attr i(String name, long v) {
            return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build());
        }

        static Attr f(String name, float v) {
            return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build());
        }

        static Attr ints(String name, long... v) {
            AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
            for (long x : v) b.addInts(x);
            return new Attr(b.build());
        }
    }
}
