package io.hayloft.volume;

/**
 * The kinds of failure the volume engine reports to its callers.
 *
 * <p>Every operating error (bad input, bad luck with the disk) is one of these codes inside a
 * {@link VolumeException}; the edges of Hayloft map each code to a wire or HTTP status once.
 */
public enum VolumeErrorCode {
    /** No needle with this id was ever written to the volume, or it was compacted away. */
    NOT_FOUND,
    /** The needle was deleted. */
    DELETED,
    /** The needle exists but the cookie given does not match the stored one. */
    WRONG_COOKIE,
    /** The stored record failed a checksum or format check; it is never served. */
    CORRUPT,
    /** The needle's data is larger than the configured maximum. */
    NEEDLE_TOO_LARGE,
    /** Appending the needle would take the volume past its configured maximum size. */
    VOLUME_FULL,
    /** The volume is sealed (read-only) and takes no more appends or deletes. */
    READ_ONLY,
    /** The file system has no space left for the append. */
    DISK_FULL,
    /** An I/O error other than a full disk. */
    IO_ERROR,
    /** An fsync failed earlier; the volume takes no writes until it is reopened. */
    VOLUME_FAILED,
    /** The volume was closed. */
    CLOSED,
    /** The caller's input was malformed: a stream shorter than announced, a bad argument. */
    BAD_INPUT,
    /** A replicated append carried a sequence number not above the volume's last one. */
    SEQUENCE_REGRESSION,
    /**
     * A replicated append came while a lower sequence is missing: a replica takes records only in
     * order, so that it never holds a gap; the missing record must come first (by catch-up).
     */
    SEQUENCE_GAP,
    /** A volume with this id already exists in the directory. */
    VOLUME_EXISTS,
    /** No volume with this id exists in the directory. */
    NO_SUCH_VOLUME,
    /** A compaction is already running on this volume. */
    COMPACTION_RUNNING;

    /** Whether the code describes the caller's request rather than the health of the volume. */
    public boolean isExpected() {
        return switch (this) {
            case NOT_FOUND, DELETED, WRONG_COOKIE, NEEDLE_TOO_LARGE, VOLUME_FULL, READ_ONLY, BAD_INPUT,
                    SEQUENCE_REGRESSION, SEQUENCE_GAP, VOLUME_EXISTS, NO_SUCH_VOLUME, COMPACTION_RUNNING -> true;
            default -> false;
        };
    }
}
