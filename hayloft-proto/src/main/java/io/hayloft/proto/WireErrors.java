package io.hayloft.proto;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;
import java.util.Optional;

/**
 * The one place where Hayloft errors are put on and taken off the wire: a gRPC status whose
 * trailers carry an {@link Error} under the binary key {@code hayloft-error-bin}.
 */
public final class WireErrors {
    /** The trailer key of the error detail. */
    public static final Metadata.Key<Error> ERROR_KEY = ProtoUtils.keyForProto(Error.getDefaultInstance());

    private WireErrors() {}

    /** The exception a server throws (or passes to {@code onError}) for the error. */
    public static StatusRuntimeException toStatus(Error error) {
        Metadata trailers = new Metadata();
        trailers.put(ERROR_KEY, error);
        return statusFor(error.getCode()).withDescription(error.getCode() + ": " + error.getMessage())
                .asRuntimeException(trailers);
    }

    public static StatusRuntimeException toStatus(ErrorCode code, String message) {
        return toStatus(Error.newBuilder().setCode(code).setMessage(message).build());
    }

    /**
     * The error a call failed with: the detail from the trailers when the server sent one, else
     * one made from the gRPC status (a transport failure: UNAVAILABLE and the like).
     */
    public static Optional<Error> fromThrowable(Throwable t) {
        Status status = Status.fromThrowable(t);
        Metadata trailers = Status.trailersFromThrowable(t);
        if (trailers != null && trailers.containsKey(ERROR_KEY)) {
            return Optional.ofNullable(trailers.get(ERROR_KEY));
        }
        if (status.isOk()) {
            return Optional.empty();
        }
        ErrorCode code = switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED -> ErrorCode.UNAVAILABLE;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> ErrorCode.BAD_REQUEST;
            case NOT_FOUND -> ErrorCode.NOT_FOUND;
            default -> ErrorCode.INTERNAL;
        };
        return Optional.of(Error.newBuilder().setCode(code)
                .setMessage(String.valueOf(status.getDescription())).build());
    }

    /** The gRPC status class of each code, for proxies and logs; callers read the code itself. */
    static Status statusFor(ErrorCode code) {
        return switch (code) {
            case NOT_FOUND, DELETED, WRONG_COOKIE, NO_SUCH_VOLUME, NO_SUCH_BUCKET, NO_SUCH_KEY, NO_SUCH_STORE ->
                    Status.NOT_FOUND;
            case BUCKET_EXISTS -> Status.ALREADY_EXISTS;
            case BUCKET_NOT_EMPTY, READ_ONLY, SEQUENCE_REGRESSION, SEQUENCE_GAP, REPLICA_DIVERGED, NOT_LEADER,
                    NOT_PRIMARY ->
                    Status.FAILED_PRECONDITION;
            case NEEDLE_TOO_LARGE, BAD_REQUEST -> Status.INVALID_ARGUMENT;
            case VOLUME_FULL, DISK_FULL, NO_WRITABLE_VOLUME -> Status.RESOURCE_EXHAUSTED;
            case CORRUPT -> Status.DATA_LOSS;
            case UNAVAILABLE, REPLICA_FAILED -> Status.UNAVAILABLE;
            default -> Status.INTERNAL;
        };
    }
}
