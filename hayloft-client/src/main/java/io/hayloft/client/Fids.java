package io.hayloft.client;

import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;

/**
 * The text form of a needle's address, as users see it: {@code <volume id>,<needle id in
 * hex><cookie as 8 hex digits>}, e.g. {@code 3,1a2b00c0ffee}.
 */
public final class Fids {
    private Fids() {}

    public static String format(Fid fid) {
        return Integer.toUnsignedString(fid.getVolumeId()) + "," + Long.toHexString(fid.getNeedleId())
                + String.format("%08x", fid.getCookie());
    }

    /** Parses the text form; BAD_REQUEST when it is not one. */
    public static Fid parse(String text) {
        int comma = text.indexOf(',');
        if (comma <= 0 || text.length() - comma - 1 <= 8 || text.length() - comma - 1 > 24) {
            throw bad(text);
        }
        try {
            int volume = Integer.parseUnsignedInt(text.substring(0, comma));
            String rest = text.substring(comma + 1);
            long needle = Long.parseUnsignedLong(rest.substring(0, rest.length() - 8), 16);
            int cookie = Integer.parseUnsignedInt(rest.substring(rest.length() - 8), 16);
            return Fid.newBuilder().setVolumeId(volume).setNeedleId(needle).setCookie(cookie).build();
        } catch (NumberFormatException e) {
            throw bad(text);
        }
    }

    private static HayloftException bad(String text) {
        return new HayloftException(ErrorCode.BAD_REQUEST, "not a fid: '" + text
                + "' (expected <volume>,<needle hex><8 hex digits of cookie>)");
    }
}
