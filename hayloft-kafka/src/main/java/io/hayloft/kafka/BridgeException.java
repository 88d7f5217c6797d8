package io.hayloft.kafka;

/**
 * A failure of the bridge's work on one record: either the record itself is at fault and will
 * never succeed ({@link Kind#PERMANENT}: it is answered or skipped), or something it depends on
 * is not working now ({@link Kind#TRANSIENT}: the work is retried, so nothing is lost).
 */
public final class BridgeException extends Exception {
    /** Whether retrying can help. */
    public enum Kind { PERMANENT, TRANSIENT }

    private final Kind kind;
    private final String code;

    /**
     * @param code the S3 error code (e.g. {@code NoSuchKey}, {@code KeyTooLongError}), or the
     *     bridge's own for records it refuses before asking ({@code InvalidRecord})
     */
    public BridgeException(Kind kind, String code, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.code = code;
    }

    public static BridgeException permanent(String code, String message) {
        return new BridgeException(Kind.PERMANENT, code, message, null);
    }

    public static BridgeException transientFailure(String code, String message, Throwable cause) {
        return new BridgeException(Kind.TRANSIENT, code, message, cause);
    }

    public boolean isTransient() {
        return kind == Kind.TRANSIENT;
    }

    /** The error code that goes into a reply's {@code hayloft-error} header. */
    public String code() {
        return code;
    }
}
