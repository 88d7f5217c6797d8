package io.hayloft.gateway;

/**
 * A single byte range of a GET, inclusive at both ends. S3 serves one range per request: a
 * header it cannot parse, or one with several ranges, is ignored and the whole object is sent;
 * a range that starts past the end is InvalidRange (416).
 */
record ByteRange(long first, long last) {

    long length() {
        return last - first + 1;
    }

    /** The range the header asks for within an object of {@code size} bytes, or null for the whole object. */
    static ByteRange parse(String header, long size) {
        if (header == null) {
            return null;
        }
        String h = header.trim();
        if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
            return null;
        }
        String spec = h.substring("bytes=".length()).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        try {
            if (a.isEmpty()) {
                // A suffix: the last n bytes.
                long n = Long.parseLong(b);
                if (n <= 0 || size == 0) {
                    throw unsatisfiable();
                }
                return new ByteRange(Math.max(0, size - n), size - 1);
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? size - 1 : Long.parseLong(b);
            if (first < 0 || (!b.isEmpty() && last < first)) {
                return null;
            }
            if (first >= size) {
                throw unsatisfiable();
            }
            return new ByteRange(first, Math.min(last, size - 1));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static S3Exception unsatisfiable() {
        return new S3Exception(S3Error.INVALID_RANGE);
    }
}
