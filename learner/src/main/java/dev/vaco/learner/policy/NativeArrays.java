package dev.vaco.learner.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.FloatBuffer;

/**
 * Arrays whose memory libtorch owns.
 *
 * <p>Why: DJL's PyTorch engine wraps Java direct buffers with {@code torch::from_blob} (no copy) and keeps the buffer
 * alive only through the Java {@code NDArray} object. Autograd may hold such a tensor past the Java object's life
 * (embedding keeps its indices, gather its index, {@code mul(Number)} its scalar) and then reads freed memory after a
 * GC (engine notes, "use-after-free"). Every array built from Java data here is therefore cloned into libtorch memory
 * at once, and the Java-backed temporary closed.
 */
final class NativeArrays {
    private NativeArrays() {}

    /** fp32 array with libtorch-owned memory, a copy of {@code data} (position 0 .. capacity). */
    static NDArray floats(NDManager manager, FloatBuffer data, Shape shape) {
        try (NDArray javaBacked = manager.create(data.duplicate().position(0), shape)) {
            return javaBacked.duplicate();
        }
    }

    static NDArray floats(NDManager manager, float[] data, Shape shape) {
        try (NDArray javaBacked = manager.create(data, shape)) {
            return javaBacked.duplicate();
        }
    }

    /** A 0-d fp32 scalar created by {@code torch::full}: safe to use in ops that autograd saves for backward. */
    static NDArray scalar(NDManager manager, double value) {
        return manager.full(new Shape(), (float) value, DataType.FLOAT32);
    }

    /** int64 copy in libtorch memory (embedding and gather want int64 and keep the indices for backward). */
    static NDArray indices(NDArray tokens) {
        return tokens.toType(DataType.INT64, true);
    }

    /** Long-lived arrays (parameters, tables) must not be closed by whatever {@link NDScope} happens to be open. */
    static NDArray keep(NDArray array) {
        NDScope.unregister(array);
        return array;
    }
}
