package io.hayloft.gateway.auth;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the Signature V4 verifier needs of an HTTP request, independent of the HTTP server.
 *
 * @param method the HTTP method, e.g. {@code PUT}
 * @param rawPath the path exactly as on the request line: percent-encoded, without the query
 * @param rawQuery the raw query string without {@code '?'}, or {@code ""} when there is none
 * @param headers header name (lower-case) to its values as received, in order
 */
public record SignedRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers) {

    public SignedRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(rawPath, "rawPath");
        rawQuery = rawQuery == null ? "" : rawQuery;
        headers = Map.copyOf(headers);
    }

    /** The first value of a header, or null when the request has none. */
    public String header(String lowerCaseName) {
        List<String> values = headers.get(lowerCaseName);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** Every value of a header, empty when the request has none. */
    public List<String> headerValues(String lowerCaseName) {
        return headers.getOrDefault(lowerCaseName, List.of());
    }
}
