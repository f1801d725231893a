package dev.vaco.server.engine;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Gives freed native memory back to the OS. glibc's malloc raises its mmap threshold to the largest block freed (up to
 * 32 MB), after which ONNX Runtime's and the direct buffers' tensors (a 0.5B layer's matmul weight is 17 MB) come from
 * malloc arenas that keep freed pages: a 0.5B server grew by ~1.5 GB per pushed version, to 18.8 GB. A fixed threshold
 * ({@code MALLOC_MMAP_THRESHOLD_}) stops that but looked costly for decoding (25M, batch 16: 341 against 749-1,424
 * tokens/s in one noisy run); {@code malloc_trim} after a version change releases the free pages instead and leaves
 * the decode path alone (BENCHMARKS.md "Per-session memory"). Elsewhere than glibc it does nothing.
 */
public final class NativeMemory {
    private interface LibC extends Library {
        int malloc_trim(long pad);
    }

    private static final LibC LIBC = load();

    private NativeMemory() {}

    private static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (Throwable t) { // no JNA native for this platform or no libc by that name
            return null;
        }
    }

    /** {@code malloc_trim(0)}; false when unavailable (not glibc) or nothing was released. */
    public static boolean trim() {
        if (LIBC == null) return false;
        try {
            return LIBC.malloc_trim(0) == 1;
        } catch (Throwable t) { // UnsatisfiedLinkError: a libc without malloc_trim (musl)
            return false;
        }
    }
}
