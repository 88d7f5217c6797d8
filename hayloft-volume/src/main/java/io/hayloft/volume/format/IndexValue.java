package io.hayloft.volume.format;

/**
 * Packs where a needle's newest record is into one long: the record offset / 8 in the high 32
 * bits, and the data length + 1 (or 0 for a tombstone) in the low 32 bits.
 *
 * <p>The value 0 never describes a record (the first one starts after the superblock), so it
 * stands for "absent" in the index.
 */
public final class IndexValue {
    public static final long ABSENT = 0L;

    private IndexValue() {}

    public static long live(long offset, int dataLength) {
        return ((offset >>> 3) << 32) | ((dataLength + 1L) & 0xFFFFFFFFL);
    }

    public static long tombstone(long offset) {
        return (offset >>> 3) << 32;
    }

    public static long offset(long value) {
        return (value >>> 32) << 3;
    }

    public static boolean isTombstone(long value) {
        return (int) value == 0;
    }

    /** The data length of a live record; -1 for a tombstone. */
    public static int dataLength(long value) {
        return (int) ((value & 0xFFFFFFFFL) - 1);
    }

    /** The length of the record on disk, padding included. */
    public static long recordBytes(long value) {
        return NeedleFormat.recordBytes(isTombstone(value) ? 0 : dataLength(value));
    }
}
