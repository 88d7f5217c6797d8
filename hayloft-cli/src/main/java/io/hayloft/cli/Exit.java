package io.hayloft.cli;

/**
 * The exit codes of the {@code hayloft} command, one per kind of outcome, so that scripts can
 * tell a missing object from a refused key or a server that is down.
 */
public final class Exit {
    public static final int OK = 0;
    /** Any failure without a code of its own. */
    public static final int FAILURE = 1;
    /** A bad command line or a bad configuration file. */
    public static final int USAGE = 2;
    /** The bucket, object or local file does not exist. */
    public static final int NOT_FOUND = 3;
    /** The credentials were refused. */
    public static final int AUTH = 4;
    /** The server could not be reached. */
    public static final int UNREACHABLE = 5;
    /** {@code hayloft health}: the cluster answered, and it is not healthy. */
    public static final int UNHEALTHY = 6;

    /** The table printed under {@code hayloft --help}. */
    static String[] footer() {
        return new String[] {
        "",
        "Exit codes:",
        "  0  success",
        "  1  failure",
        "  2  bad command line or configuration file",
        "  3  no such bucket, object or file",
        "  4  credentials refused",
        "  5  server unreachable",
        "  6  cluster unhealthy (health)",
        };
    }

    private Exit() {}
}
