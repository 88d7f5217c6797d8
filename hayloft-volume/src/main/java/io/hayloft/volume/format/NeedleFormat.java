package io.hayloft.volume.format;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The needle record, format version 1: pure encoding and decoding, no I/O.
 *
 * <pre>
 * offset   size  field
 * 0        4     magic 0x4E45444C ("NEDL")
 * 4        1     flags: bit 0 tombstone; other bits must be 0
 * 5        3     reserved, 0
 * 8        4     cookie
 * 12       8     needle id
 * 20       4     data length n (0 .. 2^30)
 * 24       n     data
 * 24+n     4     data CRC32C (of the n data bytes)
 * 28+n     8     append sequence number (1, 2, ...)
 * 36+n     4     record CRC32C of: volume salt (8 bytes), bytes [0, 24), bytes [24+n, 36+n)
 * 40+n     p     zero padding so that the record length is a multiple of 8
 * </pre>
 *
 * <p>All integers are big-endian. The record CRC covers every field but the data and the padding,
 * and is seeded with the volume's random salt, so a blob whose bytes happen to look like a record
 * is never taken for one when a scan resynchronises after damage. The data has its own CRC so that
 * it can be checked piece by piece while it streams.
 */
public final class NeedleFormat {
    public static final int VERSION = 1;
    public static final int MAGIC = 0x4E45444C;
    public static final int HEADER_BYTES = 24;
    public static final int FOOTER_BYTES = 16;
    public static final int OVERHEAD_BYTES = HEADER_BYTES + FOOTER_BYTES;
    public static final int ALIGNMENT = 8;
    /** The superblock at the start of every {@code .dat} file; the first record follows it. */
    public static final int SUPERBLOCK_BYTES = Superblock.BYTES;

    public static final int FLAG_TOMBSTONE = 1;
    private static final int KNOWN_FLAGS = FLAG_TOMBSTONE;

    public static final int OFF_MAGIC = 0;
    public static final int OFF_FLAGS = 4;
    public static final int OFF_COOKIE = 8;
    public static final int OFF_NEEDLE_ID = 12;
    public static final int OFF_DATA_LENGTH = 20;
    public static final int OFF_DATA = 24;

    /** The largest data length the format can describe. */
    public static final int DATA_LENGTH_LIMIT = 1 << 30;

    private NeedleFormat() {}

    /** The length on disk of a record holding {@code dataLength} bytes, padding included. */
    public static long recordBytes(long dataLength) {
        return align(OVERHEAD_BYTES + dataLength);
    }

    public static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** Writes the 24-byte header at the buffer's position and advances it. */
    public static void putHeader(ByteBuffer dst, int flags, int cookie, long needleId, int dataLength) {
        dst.putInt(MAGIC);
        dst.put((byte) flags);
        dst.put((byte) 0).put((byte) 0).put((byte) 0);
        dst.putInt(cookie);
        dst.putLong(needleId);
        dst.putInt(dataLength);
    }

    /**
     * Writes the footer and padding at the buffer's position and advances it.
     *
     * @param header the 24 header bytes of the same record, from its position to its limit
     */
    public static void putFooter(ByteBuffer dst, long salt, ByteBuffer header, int dataLength, int dataCrc, long sequence) {
        dst.putInt(dataCrc);
        dst.putLong(sequence);
        dst.putInt(recordCrc(salt, header, dataCrc, sequence));
        int padding = (int) (recordBytes(dataLength) - OVERHEAD_BYTES - dataLength);
        for (int i = 0; i < padding; i++) {
            dst.put((byte) 0);
        }
    }

    /** The record CRC over the salt, the 24 header bytes (position to limit), the data CRC and the sequence. */
    public static int recordCrc(long salt, ByteBuffer header, int dataCrc, long sequence) {
        CRC32C crc = new CRC32C();
        updateLong(crc, salt);
        crc.update(header.duplicate());
        updateInt(crc, dataCrc);
        updateLong(crc, sequence);
        return (int) crc.getValue();
    }

    /**
     * The record CRC of a whole record held in an array: {@code saltBytes} are the salt's 8
     * big-endian bytes, the header starts at {@code headerAt} and the footer at {@code footerAt}.
     * The same value as {@link #recordCrc(long, ByteBuffer, int, long)}, without the copies.
     */
    public static int recordCrc(byte[] saltBytes, byte[] record, int headerAt, int footerAt) {
        CRC32C crc = new CRC32C();
        crc.update(saltBytes, 0, 8);
        crc.update(record, headerAt, HEADER_BYTES);
        crc.update(record, footerAt, 12);
        return (int) crc.getValue();
    }

    private static void updateLong(CRC32C crc, long v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            crc.update((int) (v >>> shift));
        }
    }

    private static void updateInt(CRC32C crc, int v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            crc.update(v >>> shift);
        }
    }

    public static int dataCrc(ByteBuffer data) {
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        return (int) crc.getValue();
    }

    /** Encodes a whole record into a new heap buffer, ready to write. */
    public static ByteBuffer encode(long salt, int flags, int cookie, long needleId, ByteBuffer data, long sequence) {
        int n = data.remaining();
        ByteBuffer out = ByteBuffer.allocate((int) recordBytes(n));
        putHeader(out, flags, cookie, needleId, n);
        out.put(data.duplicate());
        putFooter(out, salt, out.duplicate().position(0).limit(HEADER_BYTES), n, dataCrc(data), sequence);
        return out.flip();
    }

    /**
     * Sets the sequence number of a record encoded by {@link #encode} (from its position to its
     * limit) and recomputes its record CRC; the data and its CRC are untouched.
     */
    public static void patchSequence(ByteBuffer record, long salt, long sequence) {
        int base = record.position();
        int dataLength = record.getInt(base + OFF_DATA_LENGTH);
        int footerAt = base + HEADER_BYTES + dataLength;
        int dataCrc = record.getInt(footerAt);
        record.putLong(footerAt + 4, sequence);
        ByteBuffer header = record.duplicate().limit(base + HEADER_BYTES).position(base);
        record.putInt(footerAt + 12, recordCrc(salt, header, dataCrc, sequence));
    }

    /**
     * Parses and checks the 24-byte header at {@code buf}'s absolute index {@code at}: magic, flags
     * and data length. Returns null when they are not those of a record; the record CRC is checked
     * separately with {@link #checkFooter}.
     */
    public static NeedleHeader parseHeader(ByteBuffer buf, int at) {
        if (buf.getInt(at + OFF_MAGIC) != MAGIC) {
            return null;
        }
        int flags = buf.get(at + OFF_FLAGS) & 0xFF;
        if ((flags & ~KNOWN_FLAGS) != 0 || buf.get(at + 5) != 0 || buf.get(at + 6) != 0 || buf.get(at + 7) != 0) {
            return null;
        }
        int dataLength = buf.getInt(at + OFF_DATA_LENGTH);
        if (dataLength < 0 || dataLength > DATA_LENGTH_LIMIT) {
            return null;
        }
        if ((flags & FLAG_TOMBSTONE) != 0 && dataLength != 0) {
            return null;
        }
        return new NeedleHeader(flags, buf.getInt(at + OFF_COOKIE), buf.getLong(at + OFF_NEEDLE_ID), dataLength);
    }

    /**
     * Parses the 16-byte footer at {@code buf}'s absolute index {@code footerAt} and checks the
     * record CRC against the header at {@code headerAt}. Returns null when the CRC does not match.
     */
    public static NeedleFooter checkFooter(ByteBuffer buf, int headerAt, int footerAt, long salt) {
        int dataCrc = buf.getInt(footerAt);
        long sequence = buf.getLong(footerAt + 4);
        int stored = buf.getInt(footerAt + 12);
        ByteBuffer header = buf.duplicate().limit(headerAt + HEADER_BYTES).position(headerAt);
        if (recordCrc(salt, header, dataCrc, sequence) != stored) {
            return null;
        }
        return new NeedleFooter(dataCrc, sequence);
    }

    /** Whether the padding bytes after the footer, up to the record's aligned end, are zero. */
    public static boolean paddingIsZero(ByteBuffer buf, int paddingAt, int recordEnd) {
        for (int i = paddingAt; i < recordEnd; i++) {
            if (buf.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The fields of a record header. */
    public record NeedleHeader(int flags, int cookie, long needleId, int dataLength) {
        public boolean tombstone() {
            return (flags & FLAG_TOMBSTONE) != 0;
        }
    }

    /** The fields of a record footer whose record CRC was verified. */
    public record NeedleFooter(int dataCrc, long sequence) {}
}
