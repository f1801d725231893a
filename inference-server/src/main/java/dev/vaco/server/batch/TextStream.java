package dev.vaco.server.batch;

import dev.vaco.model.Tokenizer;
import dev.vaco.server.sampling.StopChecker;

import java.util.List;

/**
 * The text of one sample as its tokens arrive: detokenises, cuts at the first stop string, and measures out the part a
 * streaming listener may have. A delta is final text only: characters that could still begin a stop string, and an
 * incomplete UTF-8 character (decoded as U+FFFD until its last byte arrives), are held back until the sample ends.
 *
 * <p>Text is decoded after every token only when it is needed then (stop strings or a listener); otherwise once, at
 * the end ({@link #finalText}). Decode thread only.
 */
final class TextStream {
    private final Tokenizer tokenizer;
    private final StopChecker stops; // null: no stop strings
    private final int holdBack;      // characters withheld from streaming while they could begin a stop string
    private final boolean streaming;
    private String text = "";        // the tokens so far, decoded, cut at a stop string
    private int emitted;             // characters of text already handed to the listener
    private String finalText;        // set when the sample ended with its text decoded

    TextStream(Tokenizer tokenizer, List<String> stop, boolean streaming) {
        this.tokenizer = tokenizer;
        this.stops = stop.isEmpty() ? null : new StopChecker(stop);
        int longest = 0;
        for (String x : stop) longest = Math.max(longest, x.length());
        this.holdBack = Math.max(0, longest - 1);
        this.streaming = streaming;
    }

    /** Whether the text must be decoded after every token. */
    boolean everyToken() {
        return stops != null || streaming;
    }

    /**
     * Decodes {@code tokens} (all of the sample's so far) and, if {@code lookForStop}, cuts the text at the first stop
     * string that the newest token completed.
     *
     * @return whether a stop string ended the text
     */
    boolean update(int[] tokens, boolean lookForStop) {
        String decoded = tokenizer.decode(tokens, true);
        boolean stopped = false;
        if (lookForStop && stops != null) {
            int at = stops.find(decoded, text.length());
            if (at >= 0) {
                decoded = decoded.substring(0, at);
                stopped = true;
            }
        }
        text = decoded;
        return stopped;
    }

    /**
     * The text since the last delta that is now final: all of it when {@code last}, otherwise short of the held-back
     * tail. May be empty.
     */
    String delta(boolean last) {
        int safe = text.length();
        if (!last) {
            safe -= holdBack;
            while (safe > 0 && text.charAt(safe - 1) == '\uFFFD') safe--; // incomplete UTF-8 so far
        }
        if (safe <= emitted) return "";
        String d = text.substring(emitted, safe);
        emitted = safe;
        return d;
    }

    /** The sample ended after {@link #update}: its text is the one decoded there. */
    void finish() {
        finalText = text;
    }

    /** The sample's whole text: as {@link #finish} kept it, else {@code tokens} decoded now. */
    String finalText(int[] tokens) {
        return finalText != null ? finalText : tokenizer.decode(tokens, true);
    }

    /** What a listener has not been handed of {@code whole}, the sample's final text. */
    String rest(String whole) {
        return whole.length() > emitted ? whole.substring(emitted) : "";
    }
}
