package io.hayloft.gateway;

/**
 * A request failed in a way S3 has a code for. The gateway turns it into the S3 XML error body
 * with the code's HTTP status. Unchecked, so that it can also leave a request body's
 * {@code InputStream} (a bad chunk signature is found while the body is read).
 */
public final class S3Exception extends RuntimeException {
    private final S3Error error;

    public S3Exception(S3Error error) {
        this(error, error.defaultMessage());
    }

    public S3Exception(S3Error error, String message) {
        super(message);
        this.error = error;
    }

    public S3Exception(S3Error error, String message, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    public S3Error error() {
        return error;
    }
}
