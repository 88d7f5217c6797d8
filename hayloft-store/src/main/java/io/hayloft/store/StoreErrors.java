package io.hayloft.store;

import io.grpc.StatusRuntimeException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;

/** Maps the volume engine's errors to the wire's, once. */
final class StoreErrors {
    private StoreErrors() {}

    static StatusRuntimeException toStatus(VolumeException e) {
        return WireErrors.toStatus(code(e.code()), e.getMessage());
    }

    static ErrorCode code(VolumeErrorCode code) {
        return switch (code) {
            case NOT_FOUND -> ErrorCode.NOT_FOUND;
            case DELETED -> ErrorCode.DELETED;
            case WRONG_COOKIE -> ErrorCode.WRONG_COOKIE;
            case CORRUPT -> ErrorCode.CORRUPT;
            case NEEDLE_TOO_LARGE -> ErrorCode.NEEDLE_TOO_LARGE;
            case VOLUME_FULL -> ErrorCode.VOLUME_FULL;
            case READ_ONLY, VOLUME_FAILED -> ErrorCode.READ_ONLY;
            case DISK_FULL -> ErrorCode.DISK_FULL;
            case IO_ERROR -> ErrorCode.IO_ERROR;
            case NO_SUCH_VOLUME -> ErrorCode.NO_SUCH_VOLUME;
            case SEQUENCE_REGRESSION -> ErrorCode.SEQUENCE_REGRESSION;
            case SEQUENCE_GAP -> ErrorCode.SEQUENCE_GAP;
            case BAD_INPUT, VOLUME_EXISTS -> ErrorCode.BAD_REQUEST;
            case CLOSED, COMPACTION_RUNNING -> ErrorCode.UNAVAILABLE;
        };
    }
}
