package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.assertCode;
import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VolumeTest {
    static final int MAX = 4 << 20;

    @TempDir
    Path dir;

    private Volume create(VolumeConfig config) throws VolumeException {
        return Volume.create(dir, 1, 0x5EED, config);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4095, 4096, 4097, 1 << 20, MAX - 1, MAX})
    void roundTripOfAwkwardSizes(int size) throws Exception {
        VolumeConfig config = config(true).withNeedleSizeBytesMax(MAX);
        byte[] data = bytes(size, size);
        try (Volume v = create(config)) {
            assertThat(v.append(7, 99, data)).isEqualTo(1);
            assertThat(toArray(v.read(7, 99))).isEqualTo(data);
            try (InputStream in = v.openStream(7, 99)) {
                assertThat(in.readAllBytes()).isEqualTo(data);
            }
        }
        try (Volume v = Volume.open(dir, 1, config)) {
            assertThat(toArray(v.read(7, 99))).isEqualTo(data);
            assertThat(v.stats().lastSequence()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 65535, 65536, 65537, 300_000})
    void streamedAppendRoundTrips(int size) throws Exception {
        byte[] data = bytes(size, size);
        try (Volume v = create(config(true))) {
            v.append(3, 4, new ByteArrayInputStream(data), size);
            assertThat(toArray(v.read(3, 4))).isEqualTo(data);
            try (InputStream in = v.openStream(3, 4)) {
                ByteBuffer got = ByteBuffer.allocate(size);
                byte[] small = new byte[1000];
                int n;
                while ((n = in.read(small)) > 0) {
                    got.put(small, 0, n);
                }
                assertThat(got.array()).isEqualTo(data);
            }
        }
    }

    @Test
    void aShortOrBrokenStreamLeavesNoTrace() throws Exception {
        try (Volume v = create(config(true))) {
            v.append(1, 1, bytes(1, 100));
            long size = v.stats().sizeBytes();
            assertCode(VolumeErrorCode.BAD_INPUT, () -> v.append(2, 1, new ByteArrayInputStream(new byte[10]), 100_000));
            InputStream broken = new InputStream() {
                int left = 70_000;

                @Override
                public int read() throws IOException {
                    if (left-- <= 0) {
                        throw new IOException("connection reset");
                    }
                    return 1;
                }
            };
            assertCode(VolumeErrorCode.BAD_INPUT, () -> v.append(3, 1, broken, 100_000));
            assertThat(Files.size(dir.resolve("1.dat"))).isEqualTo(size);
            assertThat(v.append(4, 1, bytes(4, 10))).isEqualTo(2);
            assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(2, 1));
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            assertThat(toArray(v.read(4, 1))).isEqualTo(bytes(4, 10));
            assertThat(v.stats().liveNeedles()).isEqualTo(2);
        }
    }

    @Test
    void typedErrorsForBadRequests() throws Exception {
        VolumeConfig config = config(true).withNeedleSizeBytesMax(1000).withVolumeSizeBytesMax(1 << 20);
        try (Volume v = create(config)) {
            v.append(1, 10, bytes(1, 100));
            assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(2, 10));
            assertCode(VolumeErrorCode.WRONG_COOKIE, () -> v.read(1, 11));
            assertCode(VolumeErrorCode.WRONG_COOKIE, () -> v.openStream(1, 11));
            assertCode(VolumeErrorCode.WRONG_COOKIE, () -> v.delete(1, 11));
            assertCode(VolumeErrorCode.NEEDLE_TOO_LARGE, () -> v.append(3, 1, new byte[1001]));
            assertCode(VolumeErrorCode.NOT_FOUND, () -> v.delete(2, 10));
            v.delete(1, 10);
            assertCode(VolumeErrorCode.DELETED, () -> v.read(1, 10));
            assertCode(VolumeErrorCode.DELETED, () -> v.delete(1, 10));
            int n = 0;
            try {
                while (n < 10_000) {
                    v.append(100 + n, 1, new byte[1000]);
                    n++;
                }
            } catch (VolumeException e) {
                assertThat(e.code()).isEqualTo(VolumeErrorCode.VOLUME_FULL);
            }
            assertThat(n).isBetween(900, 1100);
            assertThat(toArray(v.read(100, 1))).hasSize(1000);
            assertThat(v.stats().sizeBytes()).isLessThanOrEqualTo(1 << 20);
        }
    }

    @Test
    void overwriteServesTheNewestAndCountsGarbage() throws Exception {
        try (Volume v = create(config(true))) {
            v.append(1, 1, bytes(1, 1000));
            v.append(1, 2, bytes(2, 500));
            assertThat(toArray(v.read(1, 2))).isEqualTo(bytes(2, 500));
            assertCode(VolumeErrorCode.WRONG_COOKIE, () -> v.read(1, 1));
            VolumeStats s = v.stats();
            assertThat(s.liveNeedles()).isEqualTo(1);
            assertThat(s.liveBytes()).isEqualTo(544);
            assertThat(s.garbageBytes()).isEqualTo(1040);
            assertThat(s.lastSequence()).isEqualTo(2);
        }
    }

    @Test
    void sealedVolumeRefusesWritesAndStaysSealed() throws Exception {
        try (Volume v = create(config(true))) {
            v.append(1, 1, bytes(1, 10));
            v.seal();
            assertCode(VolumeErrorCode.READ_ONLY, () -> v.append(2, 1, bytes(2, 10)));
            assertCode(VolumeErrorCode.READ_ONLY, () -> v.delete(1, 1));
            assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 10));
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            assertThat(v.isSealed()).isTrue();
            v.unseal();
            v.append(2, 1, bytes(2, 10));
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            assertThat(v.isSealed()).isFalse();
            assertThat(v.stats().lastSequence()).isEqualTo(2);
        }
    }

    @Test
    void closedVolumeSaysSo() throws Exception {
        Volume v = create(config(true));
        v.append(1, 1, bytes(1, 10));
        v.close();
        assertCode(VolumeErrorCode.CLOSED, () -> v.read(1, 1));
        assertCode(VolumeErrorCode.CLOSED, () -> v.append(2, 1, bytes(2, 10)));
        v.close();
    }

    @Test
    void createTwiceAndOpenMissingAreTypedErrors() throws Exception {
        create(config(true)).close();
        assertCode(VolumeErrorCode.VOLUME_EXISTS, () -> create(config(true)));
        assertCode(VolumeErrorCode.NO_SUCH_VOLUME, () -> Volume.open(dir, 2, config(true)));
    }

    @Test
    void replicaCatchesUpBySequence() throws Exception {
        Path replicaDir = Files.createDirectory(dir.resolve("replica"));
        try (Volume primary = create(config(false)); Volume replica = Volume.create(replicaDir, 1, 77, config(false))) {
            for (int i = 1; i <= 300; i++) {
                primary.append(i, i, bytes(i, i * 13));
            }
            for (int i = 1; i <= 300; i += 7) {
                primary.delete(i, i);
            }
            primary.append(5, 55, bytes(5, 10));
            long after = 0;
            int batches = 0;
            while (true) {
                List<ReplicatedNeedle> batch = primary.recordsAfter(after, 64 << 10);
                if (batch.isEmpty()) {
                    break;
                }
                batches++;
                for (ReplicatedNeedle r : batch) {
                    assertThat(r.sequence()).isGreaterThan(after);
                    replica.applyReplicated(r);
                    after = r.sequence();
                }
            }
            assertThat(batches).isGreaterThan(1);
            assertThat(replica.stats().lastSequence()).isEqualTo(primary.stats().lastSequence());
            for (int i = 1; i <= 300; i++) {
                int id = i;
                if (i == 5) {
                    assertThat(toArray(replica.read(5, 55))).isEqualTo(bytes(5, 10));
                } else if ((i - 1) % 7 == 0) {
                    assertCode(VolumeErrorCode.DELETED, () -> replica.read(id, id));
                } else {
                    assertThat(toArray(replica.read(i, i))).isEqualTo(bytes(i, i * 13));
                }
            }
            // A replica that has everything but the last 10 records gets exactly those.
            long last = primary.stats().lastSequence();
            List<ReplicatedNeedle> tail = primary.recordsAfter(last - 10, Long.MAX_VALUE);
            assertThat(tail).extracting(ReplicatedNeedle::sequence)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(last - 9, last).boxed().toList());
            assertThat(primary.recordsAfter(last, Long.MAX_VALUE)).isEmpty();
            assertCode(VolumeErrorCode.SEQUENCE_REGRESSION,
                    () -> replica.applyReplicated(new ReplicatedNeedle(1, 1, false, 3, ByteBuffer.allocate(1))));
        }
    }

    @Test
    void catchUpStillWorksAfterCompaction() throws Exception {
        try (Volume v = create(config(false))) {
            for (int i = 1; i <= 100; i++) {
                v.append(i, 1, bytes(i, 100));
            }
            for (int i = 1; i <= 50; i++) {
                v.delete(i, 1);
            }
            v.compact();
            List<ReplicatedNeedle> all = v.recordsAfter(0, Long.MAX_VALUE);
            assertThat(all).hasSize(100);
            assertThat(all.stream().filter(ReplicatedNeedle::tombstone).count()).isEqualTo(50);
            assertThat(v.recordsAfter(120, Long.MAX_VALUE)).extracting(ReplicatedNeedle::sequence)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(121, 150).boxed().toList());
        }
    }

    /**
     * recordAt finds a record by its sequence, and says null for sequences it does not hold:
     * beyond the last, zero, and a record compaction removed.
     */
    @Test
    void aRecordIsFoundByItsSequence() throws Exception {
        try (Volume v = create(config(false))) {
            for (int i = 1; i <= 40; i++) {
                v.append(i, 7, bytes(i, i * 10));
            }
            v.delete(3, 7);
            RecordSummary r = v.recordAt(12);
            assertThat(r).isEqualTo(new RecordSummary(12, 7, false, 120, crcOf(bytes(12, 120)), 12));
            RecordSummary tombstone = v.recordAt(41);
            assertThat(tombstone.tombstone()).isTrue();
            assertThat(tombstone.needleId()).isEqualTo(3);
            assertThat(v.recordAt(1).needleId()).isEqualTo(1);
            assertThat(v.recordAt(42)).isNull();
            assertThat(v.recordAt(0)).isNull();
            v.compact();
            assertThat(v.recordAt(3)).isNull(); // the deleted needle's record is gone
            assertThat(v.recordAt(12)).isEqualTo(r);
            assertThat(v.recordAt(41)).isEqualTo(tombstone);
        }
    }

    private static int crcOf(byte[] data) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    /** A stream opened before a compaction keeps reading the old files until it is closed. */
    @Test
    void streamSurvivesACompaction() throws Exception {
        byte[] big = bytes(1, 1_000_000);
        try (Volume v = create(config(false))) {
            v.append(1, 1, big);
            v.append(2, 2, bytes(2, 1000));
            v.delete(2, 2);
            InputStream in = v.openStream(1, 1);
            byte[] head = in.readNBytes(100_000);
            v.compact();
            assertThat(v.stats().generation()).isEqualTo(1);
            byte[] rest = in.readAllBytes();
            in.close();
            byte[] all = new byte[head.length + rest.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(rest, 0, all, head.length, rest.length);
            assertThat(all).isEqualTo(big);
            assertThat(toArray(v.read(1, 1))).isEqualTo(big);
            try (InputStream again = v.openStream(1, 1)) {
                assertThat(again.readAllBytes()).isEqualTo(big);
            }
        }
    }

    @Test
    void configRejectsValuesOutOfRange() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VolumeConfig.defaults().withVolumeSizeBytesMax(64L << 30))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("volumeSizeBytesMax");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VolumeConfig.defaults().withCompactionGarbageRatio(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("compactionGarbageRatio");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VolumeConfig.defaults().withNeedleSizeBytesMax(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needleSizeBytesMax");
    }
}
