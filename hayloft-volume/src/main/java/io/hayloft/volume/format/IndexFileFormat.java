package io.hayloft.volume.format;

import java.nio.ByteBuffer;

/**
 * The {@code .idx} file, format version 1: a header, then one 16-byte entry per record of the
 * {@code .dat} file, in append order.
 *
 * <pre>
 * header (32 bytes)
 * offset  size  field
 * 0       4     magic 0x484C4958 ("HLIX")
 * 4       2     format version (1)
 * 6       2     reserved, 0
 * 8       4     volume id
 * 12      4     reserved, 0
 * 16      8     salt of the .dat file it indexes
 * 24      8     generation of the .dat file it indexes
 *
 * entry (16 bytes)
 * 0       8     needle id
 * 8       4     record offset in the .dat file / 8
 * 12      4     data length + 1, or 0 for a tombstone record
 * </pre>
 *
 * <p>The last two fields are exactly the packed value of the in-memory index ({@link IndexValue}).
 * The file is a cache of the {@code .dat} file: it is not fsynced per append, and on open any
 * entry that does not match the {@code .dat} file is dropped and the rest rebuilt by a scan.
 */
public final class IndexFileFormat {
    public static final int MAGIC = 0x484C4958;
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 32;
    public static final int ENTRY_BYTES = 16;

    private IndexFileFormat() {}

    public static ByteBuffer encodeHeader(int volumeId, long salt, long generation) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) 0).putInt(volumeId).putInt(0)
                .putLong(salt).putLong(generation);
        return b.flip();
    }

    /** Whether the header matches the given {@code .dat} superblock. */
    public static boolean headerMatches(ByteBuffer b, Superblock sb) {
        return b.remaining() >= HEADER_BYTES
                && b.getInt(0) == MAGIC
                && b.getShort(4) == VERSION
                && b.getInt(8) == sb.volumeId()
                && b.getLong(16) == sb.salt()
                && b.getLong(24) == sb.generation();
    }

    public static void putEntry(ByteBuffer dst, long needleId, long value) {
        dst.putLong(needleId).putLong(value);
    }
}
