package io.hayloft.gateway;

import io.hayloft.client.HayloftException;

/** Hayloft's error codes as S3 errors: each meaning mapped once, here. */
final class Errors {
    private Errors() {}

    static S3Exception toS3(HayloftException e) {
        S3Error s3 = switch (e.code()) {
            case NO_SUCH_BUCKET -> S3Error.NO_SUCH_BUCKET;
            case NO_SUCH_KEY -> S3Error.NO_SUCH_KEY;
            case BUCKET_EXISTS -> S3Error.BUCKET_ALREADY_OWNED_BY_YOU;
            case BUCKET_NOT_EMPTY -> S3Error.BUCKET_NOT_EMPTY;
            case NO_SUCH_UPLOAD -> S3Error.NO_SUCH_UPLOAD;
            case INVALID_PART -> S3Error.INVALID_PART;
            case INVALID_PART_ORDER -> S3Error.INVALID_PART_ORDER;
            case ENTITY_TOO_SMALL -> S3Error.ENTITY_TOO_SMALL;
            case BAD_REQUEST -> S3Error.INVALID_ARGUMENT;
            case NOT_LEADER, UNAVAILABLE, NO_WRITABLE_VOLUME, DISK_FULL, READ_ONLY, VOLUME_FULL, REPLICA_FAILED ->
                    S3Error.SERVICE_UNAVAILABLE;
            default -> S3Error.INTERNAL_ERROR;
        };
        String message = s3 == S3Error.INTERNAL_ERROR || s3 == S3Error.SERVICE_UNAVAILABLE
                ? s3.defaultMessage() + " (" + e.code() + ")"
                : e.getMessage();
        return new S3Exception(s3, message, e);
    }
}
