package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The authentication parameters of a presigned URL ({@code X-Amz-Algorithm}, {@code X-Amz-Credential},
 * {@code X-Amz-Date}, {@code X-Amz-Expires}, {@code X-Amz-SignedHeaders}, {@code X-Amz-Signature}), decoded
 * and checked for form; any fault is S3's {@code AuthorizationQueryParametersError}.
 */
record PresignedParameters(CredentialScope credential, String amzDate, Instant date, long expiresSeconds,
                           String signedHeaders, String signature) {
    static final String SIGNATURE = "X-Amz-Signature";
    /** A week, the longest validity S3 allows. */
    static final long MAX_EXPIRES_SECONDS = 604_800;
    private static final List<String> REQUIRED = List.of("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
            "X-Amz-Expires", "X-Amz-SignedHeaders", SIGNATURE);
    private static final Set<String> MARKERS = Set.of("X-Amz-Algorithm", "X-Amz-Credential", SIGNATURE);

    /** Whether a query carries presigned authentication (any of its marker parameters). */
    static boolean present(String rawQuery) {
        return !rawQuery.isEmpty()
                && Canonical.queryPairs(rawQuery).stream().anyMatch(p -> MARKERS.contains(Canonical.decode(p.getKey())));
    }

    static PresignedParameters parse(String rawQuery) {
        Map<String, String> values = new HashMap<>();
        for (Map.Entry<String, String> pair : Canonical.queryPairs(rawQuery)) {
            String name = Canonical.decode(pair.getKey());
            if (REQUIRED.contains(name) && values.put(name, Canonical.decode(pair.getValue())) != null) {
                throw error("the parameter " + name + " is given more than once");
            }
        }
        if (!values.keySet().containsAll(REQUIRED)) {
            throw error("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential,"
                    + " X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
        }
        if (!AuthorizationHeader.ALGORITHM.equals(values.get("X-Amz-Algorithm"))) {
            throw error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        }
        CredentialScope credential = CredentialScope.parse(values.get("X-Amz-Credential"),
                S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        String amzDate = values.get("X-Amz-Date");
        Instant date = AmzDate.parseBasic(amzDate);
        if (date == null) {
            throw error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        }
        long expires = parseExpires(values.get("X-Amz-Expires"));
        String signedHeaders = values.get("X-Amz-SignedHeaders");
        if (signedHeaders.isEmpty()) {
            throw error("X-Amz-SignedHeaders is empty");
        }
        return new PresignedParameters(credential, amzDate, date, expires, signedHeaders, values.get(SIGNATURE));
    }

    List<String> signedHeaderNames() {
        return List.of(signedHeaders.split(";", -1));
    }

    private static long parseExpires(String value) {
        long expires;
        try {
            expires = Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw error("X-Amz-Expires should be a number");
        }
        if (expires < 1) {
            throw error("X-Amz-Expires must be at least 1 second");
        }
        if (expires > MAX_EXPIRES_SECONDS) {
            throw error("X-Amz-Expires must be less than a week (in seconds) that is 604800");
        }
        return expires;
    }

    private static S3Exception error(String message) {
        return new S3Exception(S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR, message);
    }
}
