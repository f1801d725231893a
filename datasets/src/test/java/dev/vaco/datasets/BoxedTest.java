package dev.vaco.datasets;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BoxedTest {

    @Test
    void lastBoxedWithNestedBraces() {
        assertThat(Boxed.lastBoxed("a \\boxed{1} b \\boxed{\\frac{1}{\\sqrt{2}}} c")).isEqualTo("\\frac{1}{\\sqrt{2}}");
        assertThat(Boxed.lastBoxed("\\boxed {x^{2}}")).isEqualTo("x^{2}");
        assertThat(Boxed.lastBoxed("\\fbox{7}")).isEqualTo("7");
        assertThat(Boxed.lastBoxed("\\boxed{\\{1,2\\}}")).isEqualTo("\\{1,2\\}");
    }

    @Test
    void unclosedOrAbsentBox() {
        assertThat(Boxed.lastBoxed("no box")).isNull();
        assertThat(Boxed.lastBoxed("\\boxed{3} then \\boxed{4")).isEqualTo("3");
        assertThat(Boxed.lastBoxed("\\boxed{}")).isNull();
        assertThat(Boxed.lastBoxed(null)).isNull();
    }
}
