package dev.vaco.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class VerifierConfigTest {

    @Test
    void defaultsLiveInOnePlace() {
        VerifierConfig d = VerifierConfig.defaults();
        assertThat(d.timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(d.percent()).isEqualTo(PercentConvention.FRACTION);
        assertThat(d.strict()).isFalse();
        assertThat(VerifierConfig.strictDefaults().strict()).isTrue();
    }

    @Test
    void rejectsBadValuesSayingExpectedAndFound() {
        assertThatThrownBy(() -> VerifierConfig.defaults().withTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected").hasMessageContaining("found PT0S");
        assertThatThrownBy(() -> VerifierConfig.defaults().withFloatRounding(40))
                .hasMessageContaining("floatRounding").hasMessageContaining("found 40");
        assertThatThrownBy(() -> VerifierConfig.defaults().withPercent(null)).hasMessageContaining("percent");
        assertThatThrownBy(() -> new VerifierConfig(false, Duration.ofSeconds(1), PercentConvention.NUMBER, Double.NaN, 6, 10_000,
                true, false, false, true)).hasMessageContaining("floatRelTol").hasMessageContaining("NaN");
    }
}
