package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.assertCode;
import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.volume.format.IndexFileFormat;
import io.hayloft.volume.format.NeedleFormat;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CrashRecoveryTest {
    @TempDir
    Path dir;

    private static final int[] SIZES = {0, 1, 4095, 4096, 4097, 77, 8};

    /** Writes needles 1..n with the sizes above and returns the offset where the last record starts. */
    private long writeVolume(Path d, int n, int lastSize) throws Exception {
        try (Volume v = Volume.create(d, 1, 42, config(false))) {
            for (int i = 1; i < n; i++) {
                v.append(i, i, bytes(i, SIZES[i % SIZES.length]));
            }
            long start = v.stats().sizeBytes();
            v.append(n, n, bytes(n, lastSize));
            return start;
        }
    }

    private void checkEarlierRecords(Volume v, int n) throws VolumeException {
        for (int i = 1; i < n; i++) {
            assertThat(toArray(v.read(i, i))).as("needle %d", i).isEqualTo(bytes(i, SIZES[i % SIZES.length]));
        }
    }

    /** Cut the .dat at every offset inside its last record: the rest survives, the cut one is gone. */
    @ParameterizedTest
    @ValueSource(ints = {0, 5, 200})
    void crashAtEveryByteOfTheLastRecord(int lastSize) throws Exception {
        Path golden = Files.createDirectory(dir.resolve("golden"));
        int n = 12;
        long start = writeVolume(golden, n, lastSize);
        long end = start + NeedleFormat.recordBytes(lastSize);
        Path work = Files.createDirectory(dir.resolve("work"));
        for (long cut = start; cut < end; cut++) {
            for (String f : new String[] {"1.dat", "1.idx"}) {
                Files.copy(golden.resolve(f), work.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
            truncate(work.resolve("1.dat"), cut);
            try (Volume v = Volume.open(work, 1, config(false))) {
                checkEarlierRecords(v, n);
                assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(n, n));
                assertThat(v.stats().sizeBytes()).isEqualTo(start);
                assertThat(v.stats().lastSequence()).isEqualTo(n - 1);
                assertThat(v.append(1000, 1, bytes(1000, 33))).isEqualTo(n);
            }
            try (Volume v = Volume.open(work, 1, config(false))) {
                checkEarlierRecords(v, n);
                assertThat(toArray(v.read(1000, 1))).isEqualTo(bytes(1000, 33));
            }
        }
    }

    @Test
    void missingIndexIsRebuilt() throws Exception {
        writeVolume(dir, 40, 10);
        Files.delete(dir.resolve("1.idx"));
        try (Volume v = Volume.open(dir, 1, config(false))) {
            checkEarlierRecords(v, 40);
            assertThat(v.stats().liveNeedles()).isEqualTo(40);
        }
        assertThat(Files.size(dir.resolve("1.idx"))).isEqualTo(IndexFileFormat.HEADER_BYTES + 40 * 16);
    }

    @Test
    void tornOrTruncatedIndexIsRepaired() throws Exception {
        writeVolume(dir, 40, 10);
        long full = Files.size(dir.resolve("1.idx"));
        for (long cut : new long[] {0, 5, IndexFileFormat.HEADER_BYTES, IndexFileFormat.HEADER_BYTES + 7,
                full - 16 * 10 - 3, full - 1}) {
            truncate(dir.resolve("1.idx"), cut);
            try (Volume v = Volume.open(dir, 1, config(false))) {
                checkEarlierRecords(v, 40);
                assertThat(toArray(v.read(40, 40))).isEqualTo(bytes(40, 10));
            }
            assertThat(Files.size(dir.resolve("1.idx"))).as("cut at %d", cut).isEqualTo(full);
        }
    }

    @Test
    void indexEntriesPastTheDataAreDroppedAndZeroedTailIgnored() throws Exception {
        long start = writeVolume(dir, 20, 10);
        truncate(dir.resolve("1.dat"), start);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("1.idx").toFile(), "rw")) {
            f.seek(f.length());
            f.write(new byte[64]);
        }
        try (Volume v = Volume.open(dir, 1, config(false))) {
            checkEarlierRecords(v, 20);
            assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(20, 20));
        }
    }

    @Test
    void indexFromAnotherGenerationIsRebuilt() throws Exception {
        writeVolume(dir, 10, 10);
        try (Volume v = Volume.open(dir, 1, config(false))) {
            v.delete(3, 3);
        }
        Path oldIdx = dir.resolve("old.idx");
        Files.copy(dir.resolve("1.idx"), oldIdx);
        try (Volume v = Volume.open(dir, 1, config(false))) {
            v.compact();
        }
        Files.copy(oldIdx, dir.resolve("1.idx"), StandardCopyOption.REPLACE_EXISTING);
        try (Volume v = Volume.open(dir, 1, config(false))) {
            assertCode(VolumeErrorCode.DELETED, () -> v.read(3, 3));
            for (int i = 1; i <= 10; i++) {
                if (i != 3) {
                    assertThat(toArray(v.read(i, i))).isEqualTo(bytes(i, i == 10 ? 10 : SIZES[i % SIZES.length]));
                }
            }
        }
    }

    /**
     * Flip one byte in each field of a record in the middle: the read says Corrupt, scrub lists the
     * needle, its neighbours stay readable, and so does everything after a reopen with the index
     * lost.
     */
    @Test
    void flippedByteInEachFieldIsCaught() throws Exception {
        int dataLength = 13;
        Path golden = Files.createDirectory(dir.resolve("golden"));
        long victimStart;
        try (Volume v = Volume.create(golden, 1, 42, config(false))) {
            v.append(1, 1, bytes(1, 100));
            victimStart = v.stats().sizeBytes();
            v.append(2, 2, bytes(2, dataLength));
            v.append(3, 3, bytes(3, 100));
        }
        long recordBytes = NeedleFormat.recordBytes(dataLength);
        for (long o = 0; o < recordBytes; o++) {
            Path work = damagedCopy(golden, "w" + o, victimStart + o);
            long at = o;
            try (Volume v = Volume.open(work, 1, config(false))) {
                assertCode(VolumeErrorCode.CORRUPT, () -> v.read(2, 2));
                assertThat(v.scrub()).as("flip at %d", at).containsExactly(2L);
                if (at < NeedleFormat.OVERHEAD_BYTES + dataLength) {
                    // A replica catching up would go without the needle: refused, whichever field.
                    assertCode(VolumeErrorCode.CORRUPT, () -> v.recordsAfter(0, Long.MAX_VALUE));
                } else {
                    // Padding, which no CRC covers: the record itself is whole, and is sent.
                    assertThat(v.recordsAfter(0, Long.MAX_VALUE)).extracting(ReplicatedNeedle::needleId)
                            .containsExactly(1L, 2L, 3L);
                }
                assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 100));
                assertThat(toArray(v.read(3, 3))).isEqualTo(bytes(3, 100));
                v.append(4, 4, bytes(4, 5));
            }
            Files.delete(work.resolve("1.idx"));
            try (Volume v = Volume.open(work, 1, config(false))) {
                assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 100));
                assertThat(toArray(v.read(3, 3))).as("flip at %d", at).isEqualTo(bytes(3, 100));
                assertThat(toArray(v.read(4, 4))).isEqualTo(bytes(4, 5));
                try {
                    v.read(2, 2);
                    throw new AssertionError("flip at " + at + " went unnoticed");
                } catch (VolumeException e) {
                    assertThat(e.code()).isIn(VolumeErrorCode.CORRUPT, VolumeErrorCode.NOT_FOUND);
                }
            }
        }
    }

    /**
     * A catch-up passes over damage that held a superseded record or a tombstone (the orphan
     * audit deletes that needle again), and refuses damage where a live needle's newest record
     * lay, unless the pulling replica already has everything there.
     */
    @Test
    void aCatchUpRefusesDamageOnlyWhereALiveNeedleLosesItsNewestRecord() throws Exception {
        long victimStart;
        long thirdAt;
        long tombstoneAt;
        try (Volume v = Volume.create(dir, 1, 42, config(false))) {
            v.append(1, 1, bytes(1, 100));
            victimStart = v.stats().sizeBytes();
            v.append(2, 2, bytes(2, 100));
            thirdAt = v.stats().sizeBytes();
            v.append(3, 3, bytes(3, 100));
            tombstoneAt = v.stats().sizeBytes();
            v.delete(2, 2);
            v.append(5, 5, bytes(5, 10));
        }
        flip(dir.resolve("1.dat"), victimStart + 2); // the header of needle 2's data record, superseded
        try (Volume v = Volume.open(dir, 1, config(false))) {
            List<ReplicatedNeedle> records = v.recordsAfter(0, Long.MAX_VALUE);
            assertThat(records).extracting(ReplicatedNeedle::needleId).containsExactly(1L, 3L, 2L, 5L);
            assertThat(records).extracting(ReplicatedNeedle::sequence).containsExactly(1L, 3L, 4L, 5L);
            assertThat(records.get(2).tombstone()).isTrue();
        }
        flip(dir.resolve("1.dat"), tombstoneAt + 2); // the header of its tombstone
        try (Volume v = Volume.open(dir, 1, config(false))) {
            assertThat(v.recordsAfter(0, Long.MAX_VALUE)).extracting(ReplicatedNeedle::sequence)
                    .containsExactly(1L, 3L, 5L);
        }
        flip(dir.resolve("1.dat"), thirdAt + 2); // the header of needle 3's only record
        try (Volume v = Volume.open(dir, 1, config(false))) {
            assertCode(VolumeErrorCode.CORRUPT, () -> v.recordsAfter(0, Long.MAX_VALUE));
            assertCode(VolumeErrorCode.CORRUPT, () -> v.recordsAfter(2, Long.MAX_VALUE));
            assertThat(v.recordsAfter(4, Long.MAX_VALUE)).extracting(ReplicatedNeedle::needleId).containsExactly(5L);
        }
    }

    /**
     * Flip one byte in each field of a record: a healthy replica's copy of the record repairs it in
     * place, byte for byte as it was, and a copy that does not fit is refused.
     */
    @Test
    void aDamagedRecordIsRewrittenInPlaceFromAHealthyCopy() throws Exception {
        int dataLength = 13;
        Path golden = Files.createDirectory(dir.resolve("golden"));
        long victimStart;
        ReplicatedNeedle healthy;
        try (Volume v = Volume.create(golden, 1, 42, config(false))) {
            v.append(1, 1, bytes(1, 100));
            victimStart = v.stats().sizeBytes();
            v.append(2, 2, bytes(2, dataLength));
            v.append(3, 3, bytes(3, 100));
            healthy = v.readRecord(2);
        }
        assertThat(healthy.cookie()).isEqualTo(2);
        assertThat(healthy.sequence()).isEqualTo(2);
        byte[] goldenBytes = Files.readAllBytes(golden.resolve("1.dat"));
        long recordBytes = NeedleFormat.recordBytes(dataLength);
        for (long o = 0; o < recordBytes; o++) {
            Path work = damagedCopy(golden, "r" + o, victimStart + o);
            long at = o;
            try (Volume v = Volume.open(work, 1, config(false))) {
                assertCode(VolumeErrorCode.CORRUPT, () -> v.readRecord(2));
                assertCode(VolumeErrorCode.BAD_INPUT, () -> v.repairRecord(new ReplicatedNeedle(2, 2, false, 2,
                        ByteBuffer.wrap(bytes(2, dataLength + 1)))));
                v.repairRecord(healthy);
                assertThat(toArray(v.read(2, 2))).as("flip at %d", at).isEqualTo(bytes(2, dataLength));
                assertThat(v.scrub()).isEmpty();
            }
            assertThat(Files.readAllBytes(work.resolve("1.dat"))).as("flip at %d", at).isEqualTo(goldenBytes);
        }
    }

    /**
     * Flip one byte in each field of a tombstone: scrub lists its needle, and a healthy replica's
     * tombstone repairs it in place, byte for byte; a live copy of the needle does not fit it.
     */
    @Test
    void aDamagedTombstoneIsFoundByScrubAndRewrittenFromAHealthyCopy() throws Exception {
        Path golden = Files.createDirectory(dir.resolve("golden"));
        long tombstoneAt;
        ReplicatedNeedle healthy;
        try (Volume v = Volume.create(golden, 1, 42, config(false))) {
            v.append(1, 1, bytes(1, 100));
            v.append(2, 2, bytes(2, 100));
            tombstoneAt = v.stats().sizeBytes();
            v.delete(2, 2);
            v.append(3, 3, bytes(3, 100));
            healthy = v.readRecord(2);
        }
        assertThat(healthy.tombstone()).isTrue();
        assertThat(healthy.cookie()).isEqualTo(2);
        assertThat(healthy.sequence()).isEqualTo(3);
        byte[] goldenBytes = Files.readAllBytes(golden.resolve("1.dat"));
        for (long o = 0; o < NeedleFormat.recordBytes(0); o++) {
            Path work = damagedCopy(golden, "t" + o, tombstoneAt + o);
            long at = o;
            try (Volume v = Volume.open(work, 1, config(false))) {
                assertCode(VolumeErrorCode.DELETED, () -> v.read(2, 2));
                assertThat(v.scrub()).as("flip at %d", at).containsExactly(2L);
                assertCode(VolumeErrorCode.CORRUPT, () -> v.readRecord(2));
                assertCode(VolumeErrorCode.BAD_INPUT, () -> v.repairRecord(new ReplicatedNeedle(2, 2, false, 3,
                        ByteBuffer.wrap(bytes(2, 100)))));
                v.repairRecord(healthy);
                assertThat(v.scrub()).isEmpty();
                assertThat(v.readRecord(2).tombstone()).isTrue();
                assertThat(v.recordsAfter(0, Long.MAX_VALUE)).extracting(ReplicatedNeedle::sequence)
                        .containsExactly(1L, 2L, 3L, 4L);
            }
            assertThat(Files.readAllBytes(work.resolve("1.dat"))).as("flip at %d", at).isEqualTo(goldenBytes);
        }
    }

    /** An index entry whose offset was damaged so that it skips good records makes the index be rebuilt. */
    @Test
    void indexEntryThatSkipsRecordsIsCaught() throws Exception {
        writeVolume(dir, 10, 10);
        long entry3 = IndexFileFormat.HEADER_BYTES + 2L * IndexFileFormat.ENTRY_BYTES;
        long entry5 = IndexFileFormat.HEADER_BYTES + 4L * IndexFileFormat.ENTRY_BYTES;
        byte[] fifth = new byte[16];
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("1.idx").toFile(), "rw")) {
            f.seek(entry5);
            f.readFully(fifth);
            f.seek(entry3);
            f.write(fifth);
        }
        try (Volume v = Volume.open(dir, 1, config(false))) {
            checkEarlierRecords(v, 10);
        }
    }

    /**
     * Writes needles 1, 2 and 3 of 100 bytes (and, with {@code andDeleted}, needle 4, deleted), then
     * flips a byte of needle 2's record. The damaged record is in the middle: a damaged last record
     * would be cut as a torn tail.
     */
    private void writeThreeAndDamageTheSecond(int byteInRecord, boolean andDeleted) throws Exception {
        long second;
        try (Volume v = Volume.create(dir, 1, 42, config(false))) {
            v.append(1, 1, bytes(1, 100));
            second = v.stats().sizeBytes();
            v.append(2, 2, bytes(2, 100));
            v.append(3, 3, bytes(3, 100));
            if (andDeleted) {
                v.append(4, 4, bytes(4, 100));
                v.delete(4, 4);
            }
        }
        flip(dir.resolve("1.dat"), second + byteInRecord);
    }

    @Test
    void aDamagedNeedleCanStillBeDeleted() throws Exception {
        writeThreeAndDamageTheSecond(9, false);
        try (Volume v = Volume.open(dir, 1, config(false))) {
            assertCode(VolumeErrorCode.CORRUPT, () -> v.read(2, 2));
            v.delete(2, 2);
            assertCode(VolumeErrorCode.DELETED, () -> v.read(2, 2));
            assertThat(v.scrub()).isEmpty();
        }
    }

    /** Compaction keeps a needle whose newest record has a damaged header, so scrub still reports it. */
    @Test
    void compactionKeepsDamagedNeedlesForRepair() throws Exception {
        writeThreeAndDamageTheSecond(14, true);
        try (Volume v = Volume.open(dir, 1, config(false))) {
            assertThat(v.scrub()).containsExactly(2L);
            v.compact();
            assertCode(VolumeErrorCode.CORRUPT, () -> v.read(2, 2));
            assertThat(v.scrub()).containsExactly(2L);
            assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 100));
            assertThat(toArray(v.read(3, 3))).isEqualTo(bytes(3, 100));
            assertCode(VolumeErrorCode.DELETED, () -> v.read(4, 4));
        }
        try (Volume v = Volume.open(dir, 1, config(false))) {
            assertCode(VolumeErrorCode.CORRUPT, () -> v.read(2, 2));
            assertThat(toArray(v.read(3, 3))).isEqualTo(bytes(3, 100));
        }
    }

    @Test
    void damagedSuperblockIsATypedError() throws Exception {
        writeVolume(dir, 3, 3);
        flip(dir.resolve("1.dat"), 20);
        assertCode(VolumeErrorCode.CORRUPT, () -> Volume.open(dir, 1, config(false)));
    }

    @Test
    void diskFullDuringAppendLeavesNoHalfRecord() throws Exception {
        VolumeTestSupport.ArmedIoFailure full = new VolumeTestSupport.ArmedIoFailure("append.written",
                "No space left on device");
        try (Volume v = Volume.create(dir, 1, 42, config(true), full)) {
            v.append(1, 1, bytes(1, 10));
            long lastRecordEnd = v.stats().sizeBytes();
            full.armed = true;
            assertCode(VolumeErrorCode.DISK_FULL, () -> v.append(2, 2, bytes(2, 5000)));
            assertCode(VolumeErrorCode.DISK_FULL, () -> v.append(5, 5, bytes(5, 300_000)));
            // Cut back to the last record, zeros written ahead of it included.
            assertThat(Files.size(dir.resolve("1.dat"))).isEqualTo(lastRecordEnd);
            full.armed = false;
            v.append(3, 3, bytes(3, 10));
            v.append(6, 6, bytes(6, 300_000));
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            assertThat(toArray(v.read(3, 3))).isEqualTo(bytes(3, 10));
            assertThat(toArray(v.read(6, 6))).isEqualTo(bytes(6, 300_000));
            assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(2, 2));
            assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(5, 5));
            assertThat(v.stats().lastSequence()).isEqualTo(3);
        }
    }

    @Test
    void failedFsyncFailsTheVolumeForWrites() throws Exception {
        VolumeTestSupport.ArmedIoFailure broken = new VolumeTestSupport.ArmedIoFailure("append.fsynced",
                "Input/output error");
        try (Volume v = Volume.create(dir, 1, 42, config(true), broken)) {
            v.append(1, 1, bytes(1, 10));
            broken.armed = true;
            assertCode(VolumeErrorCode.VOLUME_FAILED, () -> v.append(2, 2, bytes(2, 10)));
            broken.armed = false;
            assertCode(VolumeErrorCode.VOLUME_FAILED, () -> v.append(3, 3, bytes(3, 10)));
            assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 10));
            assertThat(v.stats().failed()).isTrue();
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 10));
            v.append(4, 4, bytes(4, 10));
        }
    }

    /**
     * A primary learns a record's sequence once it is written, before its fsync, to forward it
     * meanwhile: the callback is told even when that fsync then fails, for small records (group
     * commit) and large ones alike, and the sequence it is told is the one append returns.
     */
    @Test
    void theWrittenCallbackComesBeforeTheFsync() throws Exception {
        VolumeTestSupport.ArmedIoFailure broken = new VolumeTestSupport.ArmedIoFailure("append.fsynced",
                "Input/output error");
        try (Volume v = Volume.create(dir, 1, 42, config(true), broken)) {
            java.util.List<Long> told = new java.util.concurrent.CopyOnWriteArrayList<>();
            long small = v.append(1, 1, java.nio.ByteBuffer.wrap(bytes(1, 10)), told::add);
            long large = v.append(2, 2, java.nio.ByteBuffer.wrap(bytes(2, 3 << 20)), told::add);
            assertThat(told).containsExactly(small, large);
            // A callback that throws does not fail the write.
            long third = v.append(3, 3, java.nio.ByteBuffer.wrap(bytes(3, 10)), s -> {
                throw new IllegalStateException("a broken callback");
            });
            assertThat(toArray(v.read(3, 3))).isEqualTo(bytes(3, 10));
            broken.armed = true;
            assertCode(VolumeErrorCode.VOLUME_FAILED,
                    () -> v.append(4, 4, java.nio.ByteBuffer.wrap(bytes(4, 10)), told::add));
            assertThat(told).containsExactly(small, large, third + 1);
        }
    }

    static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    /** A copy of the volume in {@code golden}, in a new directory {@code name}, with the byte at {@code at} flipped. */
    private Path damagedCopy(Path golden, String name, long at) throws IOException {
        Path work = Files.createDirectory(dir.resolve(name));
        for (String f : new String[] {"1.dat", "1.idx"}) {
            Files.copy(golden.resolve(f), work.resolve(f));
        }
        flip(work.resolve("1.dat"), at);
        return work;
    }

    static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5A);
        }
    }
}
