package dev.vaco.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code vaco} command. Each subcommand is one file in this package and calls one core class of a module:
 * {@code init-model} (model), {@code info} (model), {@code generate} and {@code serve} (inference-server).
 */
@Command(name = "vaco", mixinStandardHelpOptions = true, version = "vaco 0.1.0",
        description = "RL fine-tuning of language models on math, stable under policy lag (VACO).",
        subcommands = {DemoCommand.class, InitModelCommand.class, InfoCommand.class, GenerateCommand.class, ServeCommand.class, EvalCommand.class, VerifyCommand.class, TrainCommand.class, ExperimentCommand.class, MergeLoraCommand.class, DashboardCommand.class,
                CommandLine.HelpCommand.class})
public final class VacoCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** The bare command runs the embedded demo: the README's one command does real work. */
    @Override
    public void run() {
        int rc = spec.commandLine().getSubcommands().get("demo").execute();
        if (rc != 0) throw new picocli.CommandLine.ExecutionException(spec.commandLine(), "demo failed with exit code " + rc);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** Errors at the boundary become one line naming the file or flag, and exit code 2 (usage) or 1 (runtime). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new VacoCommand());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("vaco " + line.getCommandName() + ": " + oneLine(ex));
            if (System.getenv("VACO_DEBUG") != null) ex.printStackTrace(line.getErr());
            return ex instanceof IllegalArgumentException || ex instanceof dev.vaco.model.ModelFormatException
                    || ex instanceof dev.vaco.reward.VerifyTool.InputException || ex instanceof java.nio.file.NoSuchFileException
                    || ex instanceof dev.vaco.server.sampling.InvalidRequestException ? 2 : 1;
        });
        return cl;
    }

    static String oneLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) m = ex.getClass().getSimpleName();
        if (ex instanceof java.nio.file.NoSuchFileException) m += ": no such file"; // its message is the bare path
        return m.lines().findFirst().orElse(m);
    }
}
