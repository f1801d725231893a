package dev.vaco.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** The machine a benchmark runs on: its load (waited out before measuring) and CPU model. */
final class BenchMachine {
    private BenchMachine() {}

    /** Waits while the 1-minute load is above 2.5 (30 s polls, 10 minutes at most); returns the load measured under. */
    static String waitForLoad() throws InterruptedException {
        long deadline = System.nanoTime() + 600_000_000_000L;
        double max = Double.parseDouble(System.getProperty("bench.maxLoad", "2.5"));
        double l = loadAverage1();
        while (l > max && System.nanoTime() < deadline) {
            System.out.printf("  load %.2f > %.1f, waiting 30 s%n", l, max);
            Thread.sleep(30_000);
            l = loadAverage1();
        }
        return String.format("%.2f", l);
    }

    static double loadAverage1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // fall through
        }
        return "unknown";
    }
}
