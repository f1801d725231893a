package dev.vaco.learner.objective;

import java.util.Arrays;
import java.util.function.Function;

/** Parsing of the lower-case configuration names of enums ({@code "token-mean"}, {@code "dr_grpo"}). */
final class Keys {
    private Keys() {}

    static <E extends Enum<E>> E parse(E[] values, Function<E, String> key, String found) {
        for (E e : values) if (key.apply(e).equals(found)) return e;
        throw new IllegalArgumentException("expected one of "
                + Arrays.stream(values).map(key).toList() + ", found '" + found + "'");
    }
}
