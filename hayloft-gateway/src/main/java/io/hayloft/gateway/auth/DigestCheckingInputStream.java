package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * Passes a body through unchanged and, at its end, compares its SHA-256 with the one the client
 * signed ({@code x-amz-content-sha256}): a mismatch throws XAmzContentSHA256Mismatch from {@code read()},
 * and so does every later read, so a caller cannot take the failed body for a complete one.
 */
final class DigestCheckingInputStream extends InputStream {
    private final InputStream in;
    private final MessageDigest digest = Hashing.sha256();
    private final byte[] expected;
    private final long expectedLength;
    private long count;
    private boolean done;
    private S3Exception failure;

    /** @param expectedLength the Content-Length, or -1; a shorter body is IncompleteBody */
    DigestCheckingInputStream(InputStream in, String expectedSha256Hex, long expectedLength) {
        this.in = in;
        this.expected = Hashing.HEX.parseHex(expectedSha256Hex.toLowerCase(Locale.ROOT));
        this.expectedLength = expectedLength;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (len == 0) {
            return 0;
        }
        int n = done ? -1 : in.read(b, off, len);
        if (n < 0) {
            finish();
            return -1;
        }
        digest.update(b, off, n);
        count += n;
        return n;
    }

    @Override
    public int available() throws IOException {
        return done ? 0 : in.available();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private void finish() {
        if (done) {
            return;
        }
        done = true;
        if (expectedLength >= 0 && count < expectedLength) {
            failure = new S3Exception(S3Error.INCOMPLETE_BODY);
        } else if (!MessageDigest.isEqual(digest.digest(), expected)) {
            failure = new S3Exception(S3Error.X_AMZ_CONTENT_SHA256_MISMATCH);
        }
        if (failure != null) {
            throw failure;
        }
    }
}
