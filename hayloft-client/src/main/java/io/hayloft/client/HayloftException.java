package io.hayloft.client;

import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;

/** A failed Hayloft call: the wire's {@link ErrorCode} and a message for people. */
public final class HayloftException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final String leaderAddress;

    public HayloftException(ErrorCode code, String message) {
        this(code, message, "", null);
    }

    public HayloftException(ErrorCode code, String message, Throwable cause) {
        this(code, message, "", cause);
    }

    private HayloftException(ErrorCode code, String message, String leaderAddress, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
        this.leaderAddress = leaderAddress;
    }

    /** The error a gRPC call failed with, typed. */
    public static HayloftException from(Throwable t) {
        if (t instanceof HayloftException h) {
            return h;
        }
        Error e = WireErrors.fromThrowable(t).orElse(Error.newBuilder().setCode(ErrorCode.INTERNAL)
                .setMessage(String.valueOf(t)).build());
        return new HayloftException(e.getCode(), e.getMessage(), e.getLeaderAddress(), t);
    }

    public ErrorCode code() {
        return code;
    }

    /** With NOT_LEADER: where the leader is, when the peer knew. */
    public String leaderAddress() {
        return leaderAddress;
    }
}
