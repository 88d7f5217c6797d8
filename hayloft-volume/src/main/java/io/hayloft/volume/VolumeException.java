package io.hayloft.volume;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * The one exception type of the volume engine: an {@link VolumeErrorCode} and a message.
 *
 * <p>Expected outcomes (not found, wrong cookie, full) carry no stack trace, so that a busy read
 * path pays nothing for a miss.
 */
public final class VolumeException extends IOException {
    private static final long serialVersionUID = 1L;

    private final VolumeErrorCode code;
    private final long damagedNeedle;

    public VolumeException(VolumeErrorCode code, String message) {
        this(code, message, null);
    }

    public VolumeException(VolumeErrorCode code, String message, Throwable cause) {
        this(code, message, cause, -1);
    }

    private VolumeException(VolumeErrorCode code, String message, Throwable cause, long damagedNeedle) {
        super(code + ": " + message, cause);
        this.code = code;
        this.damagedNeedle = damagedNeedle;
        if (!code.isExpected()) {
            super.fillInStackTrace();
        }
    }

    /** A CORRUPT naming the needle whose damaged record it is about, so that it can be repaired. */
    public static VolumeException damaged(long needleId, String message) {
        return new VolumeException(VolumeErrorCode.CORRUPT, message, null, needleId);
    }

    public VolumeErrorCode code() {
        return code;
    }

    /** The needle whose damaged record made this CORRUPT, when known ({@link #damaged}); else -1. */
    public long damagedNeedle() {
        return damagedNeedle;
    }

    /** Filled in by the constructor, and only for unexpected codes. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    /** Maps an I/O failure to a code: a full disk, a closed volume, or a plain I/O error. */
    public static VolumeException fromIo(String what, IOException e) {
        if (e instanceof VolumeException ve) {
            return ve;
        }
        if (e instanceof ClosedChannelException) {
            return new VolumeException(VolumeErrorCode.CLOSED, what + ": volume closed", e);
        }
        String message = String.valueOf(e.getMessage());
        if (message.contains("No space left") || message.contains("Disk quota exceeded")
                || message.contains("There is not enough space")) {
            return new VolumeException(VolumeErrorCode.DISK_FULL, what + ": " + message, e);
        }
        return new VolumeException(VolumeErrorCode.IO_ERROR, what + ": " + message, e);
    }
}
