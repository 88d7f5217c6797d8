package io.hayloft.volume.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The 64-byte header at the start of every {@code .dat} file, format version 1.
 *
 * <pre>
 * offset  size  field
 * 0       8     magic "HAYLOFTV"
 * 8       2     format version (1)
 * 10      2     flags: bit 0 sealed (read-only); other bits 0
 * 12      4     volume id
 * 16      8     salt: random, fixed at creation, seeds every record CRC of the volume
 * 24      8     generation: 0 at creation, +1 at each compaction
 * 32      8     sequence floor: the volume's last sequence number when the file was written by a
 *               compaction (a compaction may drop the records that carried the highest ones)
 * 40      20    reserved, 0
 * 60      4     CRC32C of bytes [0, 60)
 * </pre>
 */
public record Superblock(int flags, int volumeId, long salt, long generation, long sequenceFloor) {
    public static final int BYTES = 64;
    public static final int VERSION = 1;
    public static final int FLAG_SEALED = 1;
    private static final byte[] MAGIC = "HAYLOFTV".getBytes(StandardCharsets.US_ASCII);

    /** The salt as 8 big-endian bytes, as it enters the record CRC. */
    public byte[] saltBytes() {
        return ByteBuffer.allocate(8).putLong(salt).array();
    }

    public boolean sealed() {
        return (flags & FLAG_SEALED) != 0;
    }

    public Superblock withFlags(int newFlags) {
        return new Superblock(newFlags, volumeId, salt, generation, sequenceFloor);
    }

    public ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        b.put(MAGIC).putShort((short) VERSION).putShort((short) flags).putInt(volumeId)
                .putLong(salt).putLong(generation).putLong(sequenceFloor);
        b.position(60);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 60);
        b.putInt((int) crc.getValue());
        return b.flip();
    }

    /** Decodes a superblock, or returns null when the bytes are not a valid one. */
    public static Superblock decode(ByteBuffer b) {
        if (b.remaining() < BYTES) {
            return null;
        }
        byte[] bytes = new byte[BYTES];
        b.duplicate().get(bytes);
        ByteBuffer w = ByteBuffer.wrap(bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 60);
        if (w.getInt(60) != (int) crc.getValue()) {
            return null;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                return null;
            }
        }
        if (w.getShort(8) != VERSION) {
            return null;
        }
        return new Superblock(w.getShort(10) & 0xFFFF, w.getInt(12), w.getLong(16), w.getLong(24), w.getLong(32));
    }
}
