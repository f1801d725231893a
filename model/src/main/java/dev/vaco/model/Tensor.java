package dev.vaco.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * One fp32 parameter, row-major, in a direct native-order buffer so that ONNX Runtime can take it without a copy
 * ({@code OnnxTensor.createTensor} on a direct buffer is zero-copy; a heap array costs a copy per session).
 *
 * @param name  Hugging Face name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param shape dimensions, outermost first
 * @param data  {@code numel(shape)} floats, position 0, direct, native byte order
 */
public record Tensor(String name, long[] shape, FloatBuffer data) {

    public Tensor {
        if (!data.isDirect()) throw new IllegalArgumentException(name + ": tensor data must be a direct buffer");
        if (data.capacity() != numel(shape)) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " needs " + numel(shape)
                    + " floats, buffer has " + data.capacity());
        }
    }

    public static Tensor zeros(String name, long... shape) {
        return new Tensor(name, shape, allocate(numel(shape)));
    }

    public static Tensor of(String name, long[] shape, float[] values) {
        FloatBuffer b = allocate(values.length);
        b.put(values).flip();
        return new Tensor(name, shape, b);
    }

    public static FloatBuffer allocate(long n) {
        if (n > Integer.MAX_VALUE / 4) throw new IllegalArgumentException("tensor of " + n + " floats is too large");
        return ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long numel() {
        return numel(shape);
    }

    public float get(int i) {
        return data.get(i);
    }

    public float[] toArray() {
        float[] a = new float[data.capacity()];
        data.duplicate().position(0).get(a);
        return a;
    }

    /** Same name and shape, own copy of the data: callers may then mutate either side freely. */
    public Tensor copy() {
        FloatBuffer b = allocate(data.capacity());
        b.put(data.duplicate().position(0)).flip();
        return new Tensor(name, shape.clone(), b);
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
