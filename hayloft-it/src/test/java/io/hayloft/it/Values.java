package io.hayloft.it;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The values the workload writes: each names its key and its unique id in a header and fills the
 * rest with bytes derived from the id, so that a value read back is either exactly one that was
 * written or is known to be damaged or foreign.
 */
final class Values {
    private static final String MAGIC = "hayloft-chaos";

    private Values() {}

    static byte[] make(String key, long id, int size) {
        byte[] header = header(key, id, size);
        byte[] body = new byte[Math.max(size, header.length)];
        System.arraycopy(header, 0, body, 0, header.length);
        fill(body, header.length, id);
        return body;
    }

    private static byte[] header(String key, long id, int size) {
        return (MAGIC + " key=" + key + " id=" + id + " size=" + size + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static void fill(byte[] body, int from, long id) {
        SplittableRandom r = new SplittableRandom(id * 0x9E3779B97F4A7C15L + 17);
        for (int i = from; i < body.length; i++) {
            body[i] = (byte) r.nextInt(256);
        }
    }

    /**
     * The id of the value these bytes are, checked to be the value written under {@code key};
     * throws {@link Damaged} when they are not byte for byte a value this workload wrote there.
     */
    static long idOf(String key, byte[] bytes) throws Damaged {
        int newline = -1;
        for (int i = 0; i < Math.min(bytes.length, 200); i++) {
            if (bytes[i] == '\n') {
                newline = i;
                break;
            }
        }
        if (newline < 0) {
            throw new Damaged("no header in " + bytes.length + " bytes");
        }
        String[] parts = new String(bytes, 0, newline, StandardCharsets.UTF_8).split(" ");
        if (parts.length != 4 || !parts[0].equals(MAGIC) || !parts[1].startsWith("key=")
                || !parts[2].startsWith("id=") || !parts[3].startsWith("size=")) {
            throw new Damaged("a damaged header: " + new String(bytes, 0, newline, StandardCharsets.UTF_8));
        }
        if (!parts[1].substring(4).equals(key)) {
            throw new Damaged("the value of key " + parts[1].substring(4) + " read under " + key);
        }
        long id;
        int size;
        try {
            id = Long.parseLong(parts[2].substring(3));
            size = Integer.parseInt(parts[3].substring(5));
        } catch (NumberFormatException e) {
            throw new Damaged("a damaged header: " + new String(bytes, 0, newline, StandardCharsets.UTF_8));
        }
        byte[] expected = make(key, id, size);
        if (!Arrays.equals(expected, bytes)) {
            int at = Arrays.mismatch(expected, bytes);
            throw new Damaged("value " + id + " of " + expected.length + " bytes read as " + bytes.length
                    + " bytes differing first at byte " + at);
        }
        return id;
    }

    /** Bytes read that are not a value the workload wrote under their key. */
    static final class Damaged extends Exception {
        Damaged(String message) {
            super(message);
        }
    }
}
