package io.hayloft.gateway.auth;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The parts of a Signature V4 canonical request: URI, query and headers, and the request itself.
 *
 * <p>Clients percent-encode paths and queries in different ways; the AWS SDKs decode nothing and
 * encode every byte outside {@code A-Z a-z 0-9 - . _ ~} as {@code %XX}. To accept what they signed
 * whatever the wire form, {@link #reencode} works on bytes: it decodes the escapes that are there and
 * encodes the result with AWS's rules, never through a {@code String} (so no malformed UTF-8 is lost).
 */
final class Canonical {
    private static final char[] UPPER_HEX = "0123456789ABCDEF".toCharArray();

    private Canonical() {
    }

    /** URI-encodes text with AWS's rules; {@code '/'} stays as is unless {@code encodeSlash}. */
    static String uriEncode(String text, boolean encodeSlash) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            appendEncoded(out, b, !encodeSlash);
        }
        return out.toString();
    }

    /**
     * Re-encodes a raw, possibly percent-encoded, path or query component with AWS's rules. In a path
     * ({@code literalSlash}) a literal {@code '/'} separates segments and stays; an encoded one stays
     * encoded. A {@code '%'} not followed by two hex digits is taken literally.
     */
    static String reencode(String raw, boolean literalSlash) {
        StringBuilder out = new StringBuilder(raw.length() + 16);
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length() && isHex(raw.charAt(i + 1)) && isHex(raw.charAt(i + 2))) {
                appendEncoded(out, (byte) Integer.parseInt(raw, i + 1, i + 3, 16), false);
                i += 3;
            } else if (c == '/' && literalSlash) {
                out.append('/');
                i++;
            } else {
                int cp = raw.codePointAt(i);
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    appendEncoded(out, b, false);
                }
                i += Character.charCount(cp);
            }
        }
        return out.toString();
    }

    /** Percent-decodes a query component ({@code '+'} stays {@code '+'}) to text, for reading parameters. */
    static String decode(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;  // nothing to decode: the common case, on every request
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length() && isHex(raw.charAt(i + 1)) && isHex(raw.charAt(i + 2))) {
                bytes.write(Integer.parseInt(raw, i + 1, i + 3, 16));
                i += 3;
            } else if (c < 0x80) {
                bytes.write(c);
                i++;
            } else {
                int cp = raw.codePointAt(i);
                bytes.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The canonical URI: the path with each segment re-encoded, {@code "/"} for an empty path. */
    static String uri(String rawPath) {
        return rawPath.isEmpty() ? "/" : reencode(rawPath, true);
    }

    /** The raw {@code name=value} pairs of a query string, in order; a name without '=' has value "". */
    static List<Map.Entry<String, String>> queryPairs(String rawQuery) {
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        for (String piece : rawQuery.split("&")) {
            if (piece.isEmpty()) {
                continue;
            }
            int eq = piece.indexOf('=');
            pairs.add(eq < 0 ? Map.entry(piece, "") : Map.entry(piece.substring(0, eq), piece.substring(eq + 1)));
        }
        return pairs;
    }

    /**
     * The canonical query string: pairs sorted by name then value and joined with '&'. With
     * {@code reencodeParts} names and values are re-encoded with AWS's rules, otherwise taken as
     * sent. A parameter named {@code excluded} (X-Amz-Signature for presigned URLs) is left out.
     */
    static String query(String rawQuery, boolean reencodeParts, String excluded) {
        return queryPairs(rawQuery).stream()
                .map(p -> reencodeParts ? Map.entry(reencode(p.getKey(), false), reencode(p.getValue(), false)) : p)
                .filter(p -> excluded == null || !excluded.equals(decode(p.getKey())))
                .sorted(Map.Entry.<String, String>comparingByKey().thenComparing(Map.Entry.comparingByValue()))
                .map(p -> p.getKey() + "=" + p.getValue())
                .collect(Collectors.joining("&"));
    }

    /**
     * The canonical headers: one {@code name:value\n} line per signed header, in the order signed;
     * values trimmed, inner runs of blanks (space, tab, CR, LF, VT, FF) collapsed to one space, several values joined with ','.
     */
    static String headers(SignedRequest request, List<String> signedHeaders) {
        StringBuilder out = new StringBuilder(256);
        for (String name : signedHeaders) {
            out.append(name).append(':');
            out.append(request.headerValues(name).stream().map(Canonical::trimAll).collect(Collectors.joining(",")));
            out.append('\n');
        }
        return out.toString();
    }

    static String request(String method, String uri, String query, String headers, String signedHeaders,
                          String payloadHash) {
        return method + '\n' + uri + '\n' + query + '\n' + headers + '\n' + signedHeaders + '\n' + payloadHash;
    }

    /** Trailer lines for the trailer signature: {@code name:value\n} each, sorted by name. */
    static String trailers(List<Map.Entry<String, String>> trailers) {
        return trailers.stream()
                .sorted(Comparator.comparing(Map.Entry::getKey))
                .map(t -> t.getKey() + ":" + trimAll(t.getValue()) + "\n")
                .collect(Collectors.joining());
    }

    static String trimAll(String value) {
        StringBuilder out = new StringBuilder(value.length());
        boolean blank = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (isBlank(c)) {
                blank = true;
            } else {
                if (blank && !out.isEmpty()) {
                    out.append(' ');
                }
                blank = false;
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Blank as the AWS SDKs take it when they canonicalize header values. */
    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000b' || c == '\f' || c == '\r';
    }

    private static void appendEncoded(StringBuilder out, byte b, boolean keepSlash) {
        char c = (char) (b & 0xff);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keepSlash)) {
            out.append(c);
        } else {
            out.append('%').append(UPPER_HEX[(b >> 4) & 0xf]).append(UPPER_HEX[b & 0xf]);
        }
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
