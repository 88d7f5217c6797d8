package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed {@code Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...} header.
 *
 * @param signedHeaders the SignedHeaders list exactly as sent, e.g. {@code host;x-amz-date}
 */
record AuthorizationHeader(CredentialScope credential, String signedHeaders, String signature) {
    static final String ALGORITHM = "AWS4-HMAC-SHA256";

    static AuthorizationHeader parse(String value) {
        String trimmed = value.trim();
        int space = trimmed.indexOf(' ');
        String algorithm = space < 0 ? trimmed : trimmed.substring(0, space);
        if (!ALGORITHM.equals(algorithm)) {
            if (algorithm.equals("AWS") || algorithm.startsWith("AWS4-")) {
                throw new S3Exception(S3Error.INVALID_REQUEST,
                        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");
            }
            throw malformed("the algorithm must be AWS4-HMAC-SHA256");
        }
        Map<String, String> fields = new HashMap<>();
        for (String part : trimmed.substring(space + 1).split(",")) {
            String field = part.trim();
            int eq = field.indexOf('=');
            if (eq <= 0 || fields.put(field.substring(0, eq), field.substring(eq + 1)) != null) {
                throw malformed("'" + field + "' is not a single key=value field");
            }
        }
        String credential = fields.get("Credential");
        String signedHeaders = fields.get("SignedHeaders");
        String signature = fields.get("Signature");
        if (credential == null || signedHeaders == null || signature == null || fields.size() != 3) {
            throw malformed("it must have exactly Credential, SignedHeaders and Signature");
        }
        if (signedHeaders.isEmpty()) {
            throw malformed("SignedHeaders is empty");
        }
        return new AuthorizationHeader(CredentialScope.parse(credential, S3Error.AUTHORIZATION_HEADER_MALFORMED),
                signedHeaders, signature);
    }

    List<String> signedHeaderNames() {
        return List.of(signedHeaders.split(";", -1));
    }

    private static S3Exception malformed(String why) {
        return new S3Exception(S3Error.AUTHORIZATION_HEADER_MALFORMED,
                "The authorization header is malformed; " + why + ".");
    }
}
