package io.hayloft.gateway;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) as S3
 * evaluates them, which follows RFC 9110's order: an If-Match that holds makes If-Unmodified-Since
 * irrelevant, and an If-None-Match that is present makes If-Modified-Since irrelevant. A date
 * that does not parse is ignored, as S3 does.
 */
final class Conditions {
    private Conditions() {}

    /**
     * Throws PreconditionFailed or NotModified when the request's conditions say so.
     *
     * @param prefix "if-" for GET and HEAD, "x-amz-copy-source-if-" for a copy's source
     * @param notModifiedFails true for a copy's source, where a failed If-None-Match or
     *     If-Modified-Since is a PreconditionFailed rather than a NotModified
     */
    static void check(S3Request req, String prefix, String etag, long modifiedMs, boolean notModifiedFails) {
        String ifMatch = req.header(prefix + "match");
        String ifNoneMatch = req.header(prefix + "none-match");
        Instant ifModifiedSince = date(req.header(prefix + "modified-since"));
        Instant ifUnmodifiedSince = date(req.header(prefix + "unmodified-since"));
        // HTTP dates have whole seconds: compare the modification time at that precision.
        Instant modified = Instant.ofEpochSecond(Math.floorDiv(modifiedMs, 1000));

        if (ifMatch != null) {
            if (!matches(ifMatch, etag)) {
                throw new S3Exception(S3Error.PRECONDITION_FAILED);
            }
        } else if (ifUnmodifiedSince != null && modified.isAfter(ifUnmodifiedSince)) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
        S3Error notModified = notModifiedFails ? S3Error.PRECONDITION_FAILED : S3Error.NOT_MODIFIED;
        if (ifNoneMatch != null) {
            if (matches(ifNoneMatch, etag)) {
                throw new S3Exception(notModified);
            }
        } else if (ifModifiedSince != null && !modified.isAfter(ifModifiedSince)) {
            throw new S3Exception(notModified);
        }
    }

    /** True when the header's list of entity tags (or "*") names this one. */
    static boolean matches(String header, String etag) {
        for (String t : header.split(",")) {
            String tag = t.trim();
            if (tag.startsWith("W/")) {
                tag = tag.substring(2);
            }
            if (tag.equals("*") || unquote(tag).equals(etag)) {
                return true;
            }
        }
        return false;
    }

    static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    private static Instant date(String value) {
        if (value == null) {
            return null;
        }
        try {
            return ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(value.trim());
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }
}
