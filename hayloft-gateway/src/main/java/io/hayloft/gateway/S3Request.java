package io.hayloft.gateway;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An S3 request with its addressing resolved: which bucket and key it names, whether it came
 * path-style ({@code /bucket/key}) or virtual-host-style ({@code bucket.domain/key}), its
 * decoded query parameters and its headers (names in lower case).
 */
record S3Request(String method, String rawPath, String rawQuery, String bucket, String key,
        Map<String, String> query, Map<String, List<String>> headers) {

    /** Resolves the bucket and key from the path and the Host header; {@code domains} are the virtual-host suffixes. */
    static S3Request of(String method, String rawPath, String rawQuery, Map<String, List<String>> headers,
            List<String> domains) {
        String path = decodePath(rawPath);
        String bucket = "";
        String key = "";
        String host = hostWithoutPort(first(headers, "host"));
        String virtualBucket = null;
        for (String d : domains) {
            String suffix = "." + d.toLowerCase(Locale.ROOT);
            if (host.endsWith(suffix) && host.length() > suffix.length()) {
                virtualBucket = host.substring(0, host.length() - suffix.length());
                break;
            }
        }
        if (virtualBucket != null) {
            bucket = virtualBucket;
            key = path.startsWith("/") ? path.substring(1) : path;
        } else {
            String p = path.startsWith("/") ? path.substring(1) : path;
            int slash = p.indexOf('/');
            if (slash < 0) {
                bucket = p;
            } else {
                bucket = p.substring(0, slash);
                key = p.substring(slash + 1);
            }
        }
        return new S3Request(method, rawPath, rawQuery, bucket, key, parseQuery(rawQuery), headers);
    }

    String header(String name) {
        return first(headers, name);
    }

    boolean hasQuery(String name) {
        return query.containsKey(name);
    }

    String queryParam(String name) {
        return query.get(name);
    }

    /** The resource named in error bodies, e.g. {@code /bucket/key}. */
    String resource() {
        return "/" + bucket + (key.isEmpty() ? "" : "/" + key);
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    private static String hostWithoutPort(String host) {
        if (host == null) {
            return "";
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            return h;
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    /** Percent-decodes a path; '+' stays '+' (it is a space only in query strings). */
    static String decodePath(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "malformed percent-encoding in the path");
        }
    }

    static Map<String, String> parseQuery(String raw) {
        if (raw == null || raw.isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                out.putIfAbsent(URLDecoder.decode(name, StandardCharsets.UTF_8),
                        URLDecoder.decode(value, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "malformed percent-encoding in the query");
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
