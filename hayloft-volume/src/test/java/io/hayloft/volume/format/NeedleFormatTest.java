package io.hayloft.volume.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NeedleFormatTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final long SALT = 0x0123456789ABCDEFL;

    /**
     * Pins format version 1 of the needle record: any change here is a format change. The CRCs
     * were computed by an independent bitwise CRC32C (polynomial 0x82F63B78), not by this code.
     */
    @Test
    void goldenRecordWithData() {
        ByteBuffer record = NeedleFormat.encode(SALT, 0, 0xCAFEBABE, 0x1122334455667788L,
                ByteBuffer.wrap("hay".getBytes()), 7);
        assertThat(HEX.formatHex(record.array())).isEqualTo(
                "4e45444c" + "00" + "000000" + "cafebabe" + "1122334455667788" + "00000003"
                        + "686179"
                        + GOLDEN_DATA_CRC + "0000000000000007" + GOLDEN_RECORD_CRC
                        + "0000000000");
        assertThat(record.remaining()).isEqualTo(48);
    }

    static final String GOLDEN_DATA_CRC = "e400d4c2";
    static final String GOLDEN_RECORD_CRC = "31e9eace";

    @Test
    void goldenTombstone() {
        ByteBuffer record = NeedleFormat.encode(SALT, NeedleFormat.FLAG_TOMBSTONE, 42, 9, ByteBuffer.allocate(0), 8);
        assertThat(HEX.formatHex(record.array())).isEqualTo(
                "4e45444c" + "01" + "000000" + "0000002a" + "0000000000000009" + "00000000"
                        + "00000000" + "0000000000000008" + GOLDEN_TOMBSTONE_CRC);
        assertThat(record.remaining()).isEqualTo(40);
    }

    static final String GOLDEN_TOMBSTONE_CRC = "c8a7a2e2";

    @Test
    void goldenSuperblock() {
        Superblock sb = new Superblock(Superblock.FLAG_SEALED, 17, SALT, 2, 99);
        String hex = HEX.formatHex(sb.encode().array());
        assertThat(hex).isEqualTo("4841594c4f465456" + "0001" + "0001" + "00000011" + "0123456789abcdef"
                + "0000000000000002" + "0000000000000063" + "00".repeat(20) + GOLDEN_SUPERBLOCK_CRC);
        assertThat(Superblock.decode(sb.encode())).isEqualTo(sb);
    }

    static final String GOLDEN_SUPERBLOCK_CRC = "3075c76e";

    @Test
    void recordLengthsAreAlignedToEightBytes() {
        assertThat(NeedleFormat.recordBytes(0)).isEqualTo(40);
        assertThat(NeedleFormat.recordBytes(1)).isEqualTo(48);
        assertThat(NeedleFormat.recordBytes(8)).isEqualTo(48);
        assertThat(NeedleFormat.recordBytes(9)).isEqualTo(56);
        assertThat(NeedleFormat.recordBytes(4096)).isEqualTo(4136);
    }

    @Test
    void indexValuePacksOffsetAndLength() {
        long v = IndexValue.live(8L * 0xFFFF_FFFFL, 0);
        assertThat(IndexValue.offset(v)).isEqualTo(8L * 0xFFFF_FFFFL);
        assertThat(IndexValue.dataLength(v)).isZero();
        assertThat(IndexValue.isTombstone(v)).isFalse();
        long t = IndexValue.tombstone(64);
        assertThat(IndexValue.isTombstone(t)).isTrue();
        assertThat(IndexValue.offset(t)).isEqualTo(64);
        assertThat(IndexValue.dataLength(IndexValue.live(64, 1 << 30))).isEqualTo(1 << 30);
    }

    /** Seeded random round trips: encode, parse, check every field. */
    @Test
    void roundTripProperty() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        try {
            for (int i = 0; i < 2000; i++) {
                int length = random.nextInt(10) == 0 ? random.nextInt(70_000) : random.nextInt(300);
                byte[] data = new byte[length];
                random.nextBytes(data);
                long salt = random.nextLong();
                int cookie = random.nextInt();
                long id = random.nextLong();
                long seq = random.nextLong() & Long.MAX_VALUE;
                ByteBuffer rec = NeedleFormat.encode(salt, 0, cookie, id, ByteBuffer.wrap(data), seq);
                assertThat(rec.remaining()).isEqualTo((int) NeedleFormat.recordBytes(length));
                NeedleFormat.NeedleHeader h = NeedleFormat.parseHeader(rec, 0);
                assertThat(h).isEqualTo(new NeedleFormat.NeedleHeader(0, cookie, id, length));
                NeedleFormat.NeedleFooter f = NeedleFormat.checkFooter(rec, 0, NeedleFormat.HEADER_BYTES + length, salt);
                assertThat(f).isNotNull();
                assertThat(f.sequence()).isEqualTo(seq);
                assertThat(f.dataCrc()).isEqualTo(NeedleFormat.dataCrc(ByteBuffer.wrap(data)));
                assertThat(NeedleFormat.checkFooter(rec, 0, NeedleFormat.HEADER_BYTES + length, salt ^ 1)).isNull();
                byte[] saltBytes = ByteBuffer.allocate(8).putLong(salt).array();
                assertThat(NeedleFormat.recordCrc(saltBytes, rec.array(), 0, NeedleFormat.HEADER_BYTES + length))
                        .as("the array form of the record CRC").isEqualTo(rec.getInt(NeedleFormat.HEADER_BYTES + length + 12));
                ByteBuffer patched = NeedleFormat.encode(salt, 0, cookie, id, ByteBuffer.wrap(data), 0);
                NeedleFormat.patchSequence(patched, salt, seq);
                assertThat(patched).as("a record whose sequence was patched in").isEqualTo(rec);
                assertThat(rec.slice(NeedleFormat.OFF_DATA, length)).isEqualTo(ByteBuffer.wrap(data));
            }
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    @Test
    void rejectsHeadersThatAreNotRecords() {
        ByteBuffer rec = NeedleFormat.encode(SALT, 0, 1, 2, ByteBuffer.wrap(new byte[5]), 3);
        for (int at : new int[] {0, 4, 5, 6, 7}) {
            ByteBuffer copy = ByteBuffer.wrap(rec.array().clone());
            copy.put(at, (byte) (copy.get(at) ^ 0x40));
            assertThat(NeedleFormat.parseHeader(copy, 0)).as("byte %d flipped", at).isNull();
        }
        ByteBuffer huge = ByteBuffer.wrap(rec.array().clone());
        huge.putInt(NeedleFormat.OFF_DATA_LENGTH, -1);
        assertThat(NeedleFormat.parseHeader(huge, 0)).isNull();
    }

    @Test
    void superblockRejectsDamage() {
        byte[] bytes = new Superblock(0, 1, SALT, 0, 0).encode().array();
        for (int i = 0; i < bytes.length; i++) {
            byte[] copy = bytes.clone();
            copy[i] ^= 1;
            assertThat(Superblock.decode(ByteBuffer.wrap(copy))).as("byte %d", i).isNull();
        }
    }
}
