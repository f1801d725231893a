package dev.vaco.datasets;

import java.util.Objects;

/**
 * One math problem with its reference answer.
 *
 * @param id         stable identifier, unique within a source (e.g. {@code test/algebra/2584.json} or {@code gsm8k_test/17})
 * @param question   the problem statement shown to the model
 * @param goldAnswer the reference final answer, as a string (the verifier decides equivalence)
 * @param solution   a worked solution, or null when the source has none
 * @param source     where the problem came from (file stem, hub repo or {@code synthetic})
 * @param level      difficulty level as a string ("1".."5"), or null
 * @param subject    subject or topic, or null
 */
public record Problem(String id, String question, String goldAnswer, String solution, String source, String level,
                      String subject) {

    public Problem {
        requireText(id, "id");
        requireText(question, "question");
        requireText(goldAnswer, "goldAnswer");
        requireText(source, "source");
        // Optional fields: null means "unknown"; an empty string would be a silent second spelling of null.
        if (solution != null && solution.isBlank()) {
            throw new IllegalArgumentException("Problem " + id + ": solution must be null or non-blank, found blank");
        }
        if (level != null && level.isBlank()) {
            throw new IllegalArgumentException("Problem " + id + ": level must be null or non-blank, found blank");
        }
        if (subject != null && subject.isBlank()) {
            throw new IllegalArgumentException("Problem " + id + ": subject must be null or non-blank, found blank");
        }
    }

    private static void requireText(String value, String field) {
        Objects.requireNonNull(value, () -> "Problem." + field + " must not be null");
        if (value.isBlank()) {
            throw new IllegalArgumentException("Problem." + field + " must be non-blank, found blank");
        }
    }
}
