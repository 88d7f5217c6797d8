package io.hayloft.meta;

import io.hayloft.proto.v1.ErrorCode;

/** The one exception type of meta: an {@link ErrorCode} of the wire protocol and a message. */
public final class MetaException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final String detail;
    private String leaderAddress = "";

    public MetaException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public MetaException(ErrorCode code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
        this.detail = message;
    }

    /** NOT_LEADER, saying where the leader is when it is known ({@code leaderAddress} may be empty). */
    public static MetaException notLeader(String leaderAddress) {
        MetaException e = new MetaException(ErrorCode.NOT_LEADER, leaderAddress.isEmpty()
                ? "this meta peer is not the leader, and no leader is known"
                : "this meta peer is not the leader; the leader is " + leaderAddress);
        e.leaderAddress = leaderAddress;
        return e;
    }

    /** With NOT_LEADER: the leader's API address, or empty. */
    public String leaderAddress() {
        return leaderAddress;
    }

    /** The message without the code in front, for the wire's {@code Error.message}. */
    public String detail() {
        return detail;
    }

    public ErrorCode code() {
        return code;
    }
}
