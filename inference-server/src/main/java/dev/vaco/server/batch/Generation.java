package dev.vaco.server.batch;

import java.util.List;

/**
 * The result of one request: its samples in index order, the seed that drew them (so that a run can be replayed),
 * and timings.
 */
public record Generation(List<Sample> samples, long seed, int promptTokens, double timeToFirstTokenSeconds,
                         double totalSeconds) {
    public int completionTokens() {
        int n = 0;
        for (Sample s : samples) n += s.tokenIds().length;
        return n;
    }
}
