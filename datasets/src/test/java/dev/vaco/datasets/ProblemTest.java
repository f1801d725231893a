package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProblemTest {

    @Test
    void requiredFieldsMustBeNonBlank() {
        assertThatThrownBy(() -> new Problem(" ", "q", "1", null, "s", null, null))
                .hasMessageContaining("id must be non-blank");
        assertThatThrownBy(() -> new Problem("i", null, "1", null, "s", null, null))
                .hasMessageContaining("question must not be null");
        assertThatThrownBy(() -> new Problem("i", "q", "", null, "s", null, null))
                .hasMessageContaining("goldAnswer must be non-blank");
        assertThatThrownBy(() -> new Problem("i", "q", "1", "", "s", null, null))
                .hasMessageContaining("solution must be null or non-blank");
    }
}
