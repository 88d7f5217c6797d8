package io.hayloft.gateway;

import io.hayloft.proto.v1.ObjectInfo;
import io.helidon.webserver.http.ServerResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/** How S3 writes dates, entity tags and object headers. */
final class Responses {
    static final String XML_TYPE = "application/xml";
    static final String DEFAULT_CONTENT_TYPE = "binary/octet-stream";
    /** The headers stored with an object and returned as they were given. */
    static final String[] STORED_HEADERS = {"content-encoding", "content-disposition", "cache-control",
            "content-language", "expires"};
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Responses() {}

    /** RFC 1123, as in Last-Modified. */
    static String httpDate(long ms) {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(ms).atZone(ZoneOffset.UTC));
    }

    /** ISO 8601 with milliseconds, as in listings. */
    static String isoDate(long ms) {
        return ISO_MILLIS.format(Instant.ofEpochMilli(ms));
    }

    static String quoted(String etag) {
        return "\"" + etag + "\"";
    }

    /** ETag, Last-Modified, Content-Type, user metadata and the stored headers of an object. */
    static void objectHeaders(ServerResponse res, ObjectInfo o) {
        res.header("ETag", quoted(o.getEtag()));
        res.header("Last-Modified", httpDate(o.getModifiedMs()));
        res.header("Content-Type", o.getContentType().isEmpty() ? DEFAULT_CONTENT_TYPE : o.getContentType());
        res.header("Accept-Ranges", "bytes");
        for (Map.Entry<String, String> e : o.getUserMetadataMap().entrySet()) {
            res.header("x-amz-meta-" + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, String> e : o.getHeadersMap().entrySet()) {
            res.header(e.getKey(), e.getValue());
        }
    }
}
