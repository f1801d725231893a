package dev.vaco.cli;

import dev.vaco.trainer.StopRequest;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGTERM / Ctrl-C while a command works with native engines: the signal asks the work to stop
 * ({@link StopRequest}: the trainer checkpoints the step it is on and returns), and the command then closes libtorch
 * and ONNX Runtime and exits with the signal's status (143 for SIGTERM, 130 for SIGINT). A second signal exits at once.
 *
 * <p>Why a signal handler and not a shutdown hook: once the JVM's shutdown starts, every hook runs concurrently, and
 * ONNX Runtime's Java binding registers one that releases its native environment. Waiting in a hook for the trainer
 * (whose embedded server still decodes and closes sessions) then aborted the process under Java 25
 * ({@code unique_ptr<onnxruntime::Environment>} null, exit 134); letting the JVM exit under a backward pass crashed
 * libtorch (SIGSEGV in {@code at::accelerator::getAccelerator}). Handling the signal keeps the shutdown sequence out of
 * it until the command has returned.
 */
final class GracefulStop implements AutoCloseable {
    private static volatile int exitStatus = 143;

    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private GracefulStop() {}

    /** For training commands: the first signal requests a stop at the next step boundary. */
    static GracefulStop install() {
        return install(() -> {
            System.err.println("vaco: stop requested; finishing the current step and checkpointing (a second signal exits at once)");
            StopRequest.request();
        });
    }

    /** {@code onFirstSignal} runs on the signal's thread; the command is expected to wind down and return. */
    static GracefulStop install(Runnable onFirstSignal) {
        GracefulStop g = new GracefulStop();
        AtomicBoolean received = new AtomicBoolean();
        for (String name : List.of("TERM", "INT")) {
            Signal signal = new Signal(name);
            try {
                g.previous.put(signal, Signal.handle(signal, s -> {
                    exitStatus = 128 + s.getNumber();
                    if (received.compareAndSet(false, true)) onFirstSignal.run();
                    else Runtime.getRuntime().halt(exitStatus); // the user insists: no wind-down
                }));
            } catch (IllegalArgumentException e) {
                // the JVM does not let this signal be handled here (e.g. -Xrs): its default stays
            }
        }
        return g;
    }

    /** 128 + the number of the signal received (143 when none was). */
    static int exitStatus() {
        return exitStatus;
    }

    /** The command has returned: the JVM's own handling of the signals comes back. */
    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
