package dev.vaco.server.sampling;

import java.util.List;

/**
 * Finds the earliest stop string in a growing completion. Only the tail that a new token can have completed is
 * searched, so a long completion costs O(longest stop) per token rather than O(length).
 */
public final class StopChecker {
    private final List<String> stops;
    private final int longest;

    public StopChecker(List<String> stops) {
        this.stops = stops;
        int l = 0;
        for (String s : stops) l = Math.max(l, s.length());
        this.longest = l;
    }

    /**
     * @param text        the completion decoded so far
     * @param newFrom     length of the text before the newest token was appended
     * @return the index where the first stop string starts, or -1
     */
    public int find(String text, int newFrom) {
        if (stops.isEmpty()) return -1;
        int from = Math.max(0, newFrom - longest + 1);
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }
}
