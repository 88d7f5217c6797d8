package io.hayloft.meta;

import io.hayloft.proto.v1.ErrorCode;

/** The one exception type of meta: an {@link ErrorCode} of the wire protocol and a message. */
public final class MetaException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public MetaException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public MetaException(ErrorCode code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
