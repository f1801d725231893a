package dev.vaco.cli;

import dev.vaco.trainer.pipeline.StopRequest;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * SIGTERM / Ctrl-C during training: the shutdown hook asks the trainer to stop at its next step boundary
 * ({@link StopRequest}) and holds the JVM's exit until the command has checkpointed and closed its native resources
 * (libtorch, ONNX Runtime), so that no static destructor runs under a backward pass. Used as the outermost resource of
 * a training command; the exit status stays the signal's (143 for SIGTERM, 130 for SIGINT).
 */
final class GracefulStop implements AutoCloseable {
    /** Longest wait for the current step (and a checkpoint) before the JVM exits anyway; a second signal does not help. */
    static final long WAIT_SECONDS = 300;

    private final CountDownLatch done = new CountDownLatch(1);

    private GracefulStop() {}

    static GracefulStop install() {
        GracefulStop g = new GracefulStop();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (g.done.getCount() == 0) return; // a normal exit: the command has finished
            StopRequest.request();
            System.err.println("vaco: stop requested; finishing the current step and checkpointing (up to "
                    + WAIT_SECONDS + " s; a second signal does not shorten it, kill -9 does)");
            try {
                g.done.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "vaco-graceful-stop"));
        return g;
    }

    /** The command has returned and closed everything native: the JVM may exit. */
    @Override
    public void close() {
        done.countDown();
    }
}
