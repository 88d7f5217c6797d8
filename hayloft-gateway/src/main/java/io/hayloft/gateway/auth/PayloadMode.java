package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;

/** How the body is protected, as {@code x-amz-content-sha256} says. */
enum PayloadMode {
    /** {@code UNSIGNED-PAYLOAD}: the body is taken as is. */
    UNSIGNED(false, false, false),
    /** A hex SHA-256 of the body, checked when the body has been read. */
    SHA256(false, false, false),
    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}: aws-chunked, each chunk signed. */
    STREAMING_SIGNED(true, true, false),
    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER}: signed chunks, then a signed trailer. */
    STREAMING_SIGNED_TRAILER(true, true, true),
    /** {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}: aws-chunked without signatures, then a trailer. */
    STREAMING_UNSIGNED_TRAILER(true, false, true);

    static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

    private final boolean chunked;
    private final boolean signedChunks;
    private final boolean trailer;

    PayloadMode(boolean chunked, boolean signedChunks, boolean trailer) {
        this.chunked = chunked;
        this.signedChunks = signedChunks;
        this.trailer = trailer;
    }

    /** The mode an {@code x-amz-content-sha256} value names; InvalidArgument when it names none. */
    static PayloadMode of(String contentSha256) {
        return switch (contentSha256) {
            case UNSIGNED_PAYLOAD -> UNSIGNED;
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" -> STREAMING_SIGNED;
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" -> STREAMING_SIGNED_TRAILER;
            case "STREAMING-UNSIGNED-PAYLOAD-TRAILER" -> STREAMING_UNSIGNED_TRAILER;
            default -> {
                if (isSha256Hex(contentSha256)) {
                    yield SHA256;
                }
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD,"
                        + " STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER,"
                        + " STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.");
            }
        };
    }

    boolean chunked() {
        return chunked;
    }

    boolean signedChunks() {
        return signedChunks;
    }

    boolean trailer() {
        return trailer;
    }

    private static boolean isSha256Hex(String value) {
        if (value.length() != 64) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.digit(value.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
