package dev.vaco.learner.policy;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The one place where the DJL PyTorch engine is loaded, so that a missing native library fails with an error that
 * says what to add instead of DJL's generic "Failed to load PyTorch native library" (or an attempted download,
 * which offline mode forbids).
 *
 * <p>Threads: libtorch reads {@code ai.djl.pytorch.num_threads} (intra-op) and {@code ai.djl.pytorch.num_interop_threads}
 * once, when the engine loads. Set them as system properties before the first call (the benchmark and the trainer
 * use 2, the number of cores here; one thread is ~1.9x slower).
 */
public final class Engines {
    /** The artifact that carries libtorch for this platform; DJL extracts it to {@code ~/.djl.ai} on first load. */
    public static final String NATIVE_ARTIFACT = "ai.djl.pytorch:pytorch-native-cpu:2.7.1:linux-x86_64";

    private static final String ENGINE_NAME = "PyTorch";
    private static Engine engine;

    private Engines() {}

    /** The PyTorch engine, loaded on first use. */
    public static synchronized Engine pytorch() {
        if (engine != null) return engine;
        try {
            engine = Engine.getEngine(ENGINE_NAME);
        } catch (EngineException | UnsatisfiedLinkError e) {
            // EngineException: LibUtils found no libtorch on the classpath or in the cache and may not download it.
            throw new IllegalStateException("cannot load the PyTorch engine for DJL (" + rootMessage(e) + "). "
                    + "The native library must come from the classpath: add the Maven artifact " + NATIVE_ARTIFACT
                    + " (runtime scope) next to ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0; with -Dai.djl.offline=true "
                    + "nothing is downloaded.", e);
        }
        return engine;
    }

    /**
     * The engine with libtorch's intra-op thread count set to {@code threads} (also allowed after loading:
     * {@code torch::set_num_threads} applies to later ops). Inter-op threads can only be set by property before load.
     */
    public static synchronized Engine pytorch(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, found " + threads);
        if (engine == null && System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        Engine e = pytorch();
        if (JniUtils.getNumThreads() != threads) JniUtils.setNumThreads(threads);
        return e;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + "; caused by: " + t;
    }
}
