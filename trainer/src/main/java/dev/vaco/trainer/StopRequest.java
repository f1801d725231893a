package dev.vaco.trainer;

/**
 * A request to stop training at the next step boundary, for the whole process: a signal (SIGTERM from a scheduler
 * preempting the job, Ctrl-C) arrives once per process, whatever is training. The command line's signal handler sets
 * it; {@link RlTrainer} checkpoints the step it just finished and returns, the warm start returns after its current
 * step, and the command then closes its engines and exits.
 *
 * <p>Why a cooperative stop rather than letting the JVM exit: the JVM runs libtorch's static destructors while the
 * training thread may still be inside a backward pass, which crashed in {@code at::accelerator::getAccelerator} (SIGSEGV,
 * an hs_err file, exit 134) and lost every step since the last periodic checkpoint.
 */
public final class StopRequest {
    private static volatile boolean requested;

    private StopRequest() {}

    public static void request() {
        requested = true;
    }

    public static boolean requested() {
        return requested;
    }

    /** For tests that run several trainers in one JVM. */
    public static void clear() {
        requested = false;
    }
}
