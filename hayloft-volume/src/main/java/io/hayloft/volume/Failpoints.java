package io.hayloft.volume;

import java.io.IOException;

/**
 * Named hooks in the engine's durable multi-step operations, which do nothing unless a test arms
 * them.
 *
 * <p>A test passes its own implementation to simulate a crash (throw an {@link Error}) or an I/O
 * failure (throw an {@link IOException}) at an exact step. Production code uses {@link #NONE}.
 */
@FunctionalInterface
public interface Failpoints {
    /** The failpoints that never fire. */
    Failpoints NONE = name -> {};

    /** Called when execution reaches the point {@code name}. */
    void hit(String name) throws IOException;
}
