package io.hayloft.cli.s3;

import io.hayloft.cli.CliException;

/**
 * An {@code s3://bucket/key} argument. The key may be empty ({@code s3://bucket} or
 * {@code s3://bucket/}), which some commands accept and others refuse.
 */
public record S3Url(String bucket, String key) {
    private static final String SCHEME = "s3://";

    public static S3Url parse(String text) {
        if (!text.startsWith(SCHEME)) {
            throw CliException.usage("not an s3://bucket/key address: " + text);
        }
        String rest = text.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String key = slash < 0 ? "" : rest.substring(slash + 1);
        if (bucket.isEmpty()) {
            throw CliException.usage("no bucket in " + text);
        }
        return new S3Url(bucket, key);
    }

    /** The address of an object: the key must be there. */
    public static S3Url object(String text) {
        S3Url url = parse(text);
        if (url.key().isEmpty()) {
            throw CliException.usage("no key in " + text + " (expected s3://bucket/key)");
        }
        return url;
    }

    /** The address of a bucket: no key allowed. */
    public static S3Url bucketOnly(String text) {
        S3Url url = parse(text);
        if (!url.key().isEmpty()) {
            throw CliException.usage("expected s3://bucket, not an object address: " + text);
        }
        return url;
    }

    @Override
    public String toString() {
        return SCHEME + bucket + (key.isEmpty() ? "" : "/" + key);
    }
}
