package io.hayloft.cli;

/**
 * A failure of a command, with the exit code it ends the process with and a one-line message
 * for people.
 */
public final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** A bad command line or configuration value. */
    public static CliException usage(String message) {
        return new CliException(Exit.USAGE, message);
    }

    public int exitCode() {
        return exitCode;
    }
}
