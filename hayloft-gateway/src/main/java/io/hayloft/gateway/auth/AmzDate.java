package io.hayloft.gateway.auth;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;

/** The two request time formats Signature V4 accepts: ISO 8601 basic ({@code X-Amz-Date}) and RFC 1123 ({@code Date}). */
final class AmzDate {
    private static final DateTimeFormatter BASIC = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC).withResolverStyle(ResolverStyle.STRICT);
    private static final DateTimeFormatter BASIC_DATE = DateTimeFormatter.ofPattern("uuuuMMdd")
            .withZone(ZoneOffset.UTC).withResolverStyle(ResolverStyle.STRICT);

    private AmzDate() {
    }

    /** Parses {@code 20130524T000000Z}; null when it is not one. */
    static Instant parseBasic(String value) {
        if (value == null || value.length() != 16) {
            return null;
        }
        try {
            return Instant.from(BASIC.parse(value));
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Parses an HTTP date such as {@code Fri, 24 May 2013 00:00:00 GMT}; null when it is not one. */
    static Instant parseHttp(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(value.trim()));
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static String formatBasic(Instant instant) {
        return BASIC.format(instant);
    }

    static String formatBasicDate(Instant instant) {
        return BASIC_DATE.format(instant);
    }

    static boolean isBasicDate(String value) {
        if (value.length() != 8) {
            return false;
        }
        try {
            BASIC_DATE.parse(value);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }
}
