package dev.vaco.cli;

import dev.vaco.reward.PercentConvention;
import dev.vaco.reward.Verdict;
import dev.vaco.reward.Verifier;
import dev.vaco.reward.VerifierConfig;
import dev.vaco.reward.VerifyServer;
import dev.vaco.reward.VerifyTool;
import io.vertx.core.Vertx;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check math answers: one gold/prediction pair, a JSONL file of them, or serve POST /v1/verify.")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--gold", description = "Gold answer or solution text.")
    String gold;

    @Option(names = "--pred", description = "Model output to check against --gold.")
    String pred;

    @Option(names = "--input", description = "JSONL file with {\"gold\": ..., \"pred\": ...} per line.")
    Path input;

    @Option(names = "--output", description = "Where the verdict lines go (default: INPUT.verdicts.jsonl).")
    Path output;

    @Option(names = "--serve", description = "Serve POST /v1/verify on this port instead (0 = any free port).")
    Integer port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address for --serve (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--strict", description = "Only \\boxed{} answers count (the RL setting: lenient extraction invites reward hacking).")
    boolean strict;

    @Option(names = "--percent", defaultValue = "FRACTION",
            description = "How 28%% compares: FRACTION (0.28, Math-Verify's default reading; the default), NUMBER (28, as Hendrycks MATH and PRM800K strip the sign) or EITHER.")
    PercentConvention percent;

    @Option(names = "--timeout-ms", defaultValue = "1000", description = "Hard deadline per comparison (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Override
    public Integer call() throws Exception {
        VerifierConfig cfg = (strict ? VerifierConfig.strictDefaults() : VerifierConfig.defaults()).withPercent(percent)
                .withTimeout(Duration.ofMillis(timeoutMs));
        int modes = (gold != null || pred != null ? 1 : 0) + (input != null ? 1 : 0) + (port != null ? 1 : 0);
        if (modes != 1) throw new IllegalArgumentException("give exactly one of --gold/--pred, --input or --serve");
        if (port != null) {
            Vertx vertx = Vertx.vertx();
            VerifyServer server = new VerifyServer(cfg, host, port);
            vertx.deployVerticle(server).await();
            System.out.printf("vaco verify: serving POST /v1/verify on http://%s:%d (%s)%n", host, server.actualPort(), Verifier.VERSION);
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> { vertx.close(); stop.countDown(); }));
            stop.await();
            return 0;
        }
        if (input != null) {
            Path out = output != null ? output : input.resolveSibling(input.getFileName() + ".verdicts.jsonl");
            VerifyTool.Counts c = VerifyTool.verifyJsonl(input, out, cfg);
            System.out.printf("%d verdicts: %d correct (%.1f%%), %d wrong, %d no answer, %d unparseable, %d timeout -> %s%n",
                    c.total(), c.correct(), 100 * c.accuracy(), c.wrong(), c.noAnswer(), c.unparseable(), c.timeout(), out);
            return 0;
        }
        if (gold == null || pred == null) throw new IllegalArgumentException("--gold and --pred go together");
        try (Verifier v = new Verifier(cfg)) {
            Verdict d = v.verify(gold, pred);
            System.out.printf("%s  gold=%s  pred=%s%s  (%s)%n", d.status(), d.gold(), d.pred(),
                    d.detail() == null ? "" : "  " + d.detail(), d.version());
            return 0;
        }
    }
}
