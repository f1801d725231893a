package dev.vaco.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code ./vaco} launcher names its main class as text, where no compiler sees it: a rename of the entry class
 * once left the README's first command failing with ClassNotFoundException while every other test passed.
 */
class LauncherTest {
    @Test
    void theLauncherStartsTheEntryClass() throws Exception {
        String script = Files.readString(Path.of("..", "vaco"));
        Matcher m = Pattern.compile("lib/\\*\"\\s+(dev\\.vaco\\.[\\w.]+)\\s+\"\\$@\"").matcher(script);
        assertThat(m.find()).as("the java command line at the end of ./vaco").isTrue();
        Class<?> main = Class.forName(m.group(1));
        assertThat(main).isEqualTo(VacoCommand.class);
        assertThat(main.getMethod("main", String[].class)).isNotNull();
    }
}
