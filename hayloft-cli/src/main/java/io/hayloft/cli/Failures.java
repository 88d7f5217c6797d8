package io.hayloft.cli;

import io.hayloft.client.HayloftException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * Turns whatever a command threw into a {@link CliException}: an exit code and one line for
 * people. Commands that know more (which bucket, which file) throw a {@code CliException}
 * themselves; this is the last resort.
 */
final class Failures {
    private Failures() {}

    static CliException of(Throwable t) {
        if (t instanceof CliException c) {
            return c;
        }
        if (t instanceof UncheckedIOException u) {
            return of(u.getCause());
        }
        if (t instanceof HayloftException h) {
            return switch (h.code()) {
                case UNAVAILABLE, NOT_LEADER -> new CliException(Exit.UNREACHABLE, "meta unreachable: " + h.getMessage(),
                        h);
                case NOT_FOUND, NO_SUCH_BUCKET, NO_SUCH_KEY, NO_SUCH_VOLUME, DELETED ->
                        new CliException(Exit.NOT_FOUND, h.getMessage(), h);
                default -> new CliException(Exit.FAILURE, h.getMessage(), h);
            };
        }
        if (t instanceof NoSuchFileException e) {
            return new CliException(Exit.NOT_FOUND, "no such file: " + e.getFile(), e);
        }
        if (t instanceof AccessDeniedException e) {
            return new CliException(Exit.FAILURE, "permission denied: " + e.getFile(), e);
        }
        if (t instanceof IOException e) {
            return new CliException(Exit.FAILURE, "I/O error: " + e.getMessage(), e);
        }
        return new CliException(Exit.FAILURE, t.getClass().getSimpleName() + ": " + t.getMessage(), t);
    }
}
