package io.hayloft.volume;

/**
 * Always-on checks of conditions that only a programming error can break.
 *
 * <p>Unlike {@code assert}, these run in production: a broken invariant in a storage engine must
 * stop the operation loudly rather than write a wrong byte.
 */
public final class Invariants {
    private Invariants() {}

    public static void check(boolean condition, String message, Object... args) {
        if (!condition) {
            throw new IllegalStateException("invariant broken: " + String.format(message, args));
        }
    }
}
