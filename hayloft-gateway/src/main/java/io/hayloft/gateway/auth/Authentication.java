package io.hayloft.gateway.auth;

import java.io.InputStream;

/**
 * Who sent a verified request, and how to read its body: the body's integrity is part of the
 * signature (a payload hash, signed chunks, a checksum trailer), so it can only be checked as it is read.
 */
public interface Authentication {

    /** The access key id, or null when the request is anonymous. */
    String accessKey();

    /**
     * Wraps the raw request body and returns the payload bytes the client meant: as is for an
     * unsigned payload, checked against {@code x-amz-content-sha256} at its end for a signed one, and
     * decoded (chunk signatures and checksum trailer verified) for {@code aws-chunked} uploads. A
     * failed check throws {@link io.hayloft.gateway.S3Exception} from {@code read()}; the caller then
     * discards what it stored.
     */
    InputStream body(InputStream raw);

    /** The payload's length when the client said it (x-amz-decoded-content-length for aws-chunked, else Content-Length), or -1. */
    long decodedLength();
}
