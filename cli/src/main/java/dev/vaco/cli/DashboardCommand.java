package dev.vaco.cli;

import dev.vaco.trainer.dashboard.DashboardServer;
import dev.vaco.trainer.dashboard.RunDirs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = "The run dashboard over run directories (finished or running), overlaid for comparison: a lag "
                + "sweep's cells, the demo's runs. Serves until Ctrl-C.")
final class DashboardCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "Run directories (each holds metrics.jsonl).")
    List<Path> dirs = new ArrayList<>();

    @Option(names = "--port", defaultValue = "8060", description = "Port to listen on; 0 = any free port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}; the page has no authentication).")
    String host;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port: expected 0..65535, found " + port);
        List<RunDirs.Run> runs = RunDirs.of(dirs);
        try (DashboardServer s = DashboardServer.over(host, port, runs)) {
            System.out.printf("vaco dashboard: %d run(s) (%s) on %s (Ctrl-C stops)%n", runs.size(),
                    String.join(", ", runs.stream().map(RunDirs.Run::id).toList()), s.url());
            new CountDownLatch(1).await(); // until the process is stopped
        }
        return 0;
    }
}
