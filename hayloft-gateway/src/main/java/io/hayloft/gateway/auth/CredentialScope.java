package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.util.Arrays;

/**
 * The credential of a Signature V4 request, {@code <access key>/<yyyyMMdd>/<region>/s3/aws4_request}.
 * Any region is accepted (Hayloft has one); the service must be {@code s3}.
 */
record CredentialScope(String accessKey, String date, String region) {
    static final String SERVICE = "s3";
    static final String TERMINATOR = "aws4_request";

    /**
     * Parses a credential; {@code malformed} is the error for this request's kind of authentication
     * (the header or the presigned query).
     */
    static CredentialScope parse(String credential, S3Error malformed) {
        String[] parts = credential.split("/", -1);
        if (parts.length < 5) {
            throw new S3Exception(malformed, "The credential '" + credential + "' is mal-formed; expecting"
                    + " \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
        }
        int n = parts.length;
        String accessKey = String.join("/", Arrays.copyOfRange(parts, 0, n - 4));
        String date = parts[n - 4];
        String region = parts[n - 3];
        if (accessKey.isEmpty() || region.isEmpty() || !AmzDate.isBasicDate(date)) {
            throw new S3Exception(malformed, "The credential '" + credential + "' is mal-formed.");
        }
        if (!SERVICE.equals(parts[n - 2])) {
            throw new S3Exception(malformed, "The credential '" + credential + "' is mal-formed; the service '"
                    + parts[n - 2] + "' is wrong; expecting 's3'.");
        }
        if (!TERMINATOR.equals(parts[n - 1])) {
            throw new S3Exception(malformed, "The credential '" + credential + "' is mal-formed; the terminal '"
                    + parts[n - 1] + "' is wrong; expecting 'aws4_request'.");
        }
        return new CredentialScope(accessKey, date, region);
    }

    /** The scope as it appears in the string to sign: {@code date/region/s3/aws4_request}. */
    String scope() {
        return date + "/" + region + "/" + SERVICE + "/" + TERMINATOR;
    }
}
