package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.assertCode;
import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VolumeSetTest {
    @TempDir
    Path dir;

    /** Thousands of volumes in one directory are all opened at start. */
    @Test
    void opensThousandsOfVolumes() throws Exception {
        int count = 2000;
        try (VolumeSet set = VolumeSet.open(dir, config(false))) {
            for (int id = 1; id <= count; id++) {
                set.create(id, id).append(id, id, bytes(id, id % 100));
            }
            assertCode(VolumeErrorCode.VOLUME_EXISTS, () -> set.create(7, 7));
        }
        Files.writeString(dir.resolve("notes.txt"), "not a volume");
        Files.write(dir.resolve("2001.dat.new"), new byte[64]);
        try (VolumeSet set = VolumeSet.open(dir, config(false))) {
            assertThat(set.volumes()).hasSize(count);
            assertThat(set.failures()).isEmpty();
            for (int id = 1; id <= count; id += 97) {
                assertThat(toArray(set.get(id).read(id, id))).isEqualTo(bytes(id, id % 100));
            }
            assertCode(VolumeErrorCode.NO_SUCH_VOLUME, () -> set.get(count + 1));
        }
        assertThat(dir.resolve("2001.dat.new")).doesNotExist();
    }

    @Test
    void aDamagedVolumeIsReportedAndTheOthersServe() throws Exception {
        try (VolumeSet set = VolumeSet.open(dir, config(false))) {
            set.create(1, 1).append(1, 1, bytes(1, 10));
            set.create(2, 2).append(2, 2, bytes(2, 10));
        }
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("1.dat").toFile(), "rw")) {
            f.seek(3);
            f.write('X');
        }
        try (VolumeSet set = VolumeSet.open(dir, config(false))) {
            assertThat(set.failures()).containsOnlyKeys(1);
            assertThat(set.failures().get(1).code()).isEqualTo(VolumeErrorCode.CORRUPT);
            assertThat(toArray(set.get(2).read(2, 2))).isEqualTo(bytes(2, 10));
            assertCode(VolumeErrorCode.VOLUME_EXISTS, () -> set.create(1, 1));
        }
    }

    @Test
    void compactsOnlyVolumesPastTheGarbageRatio() throws Exception {
        try (VolumeSet set = VolumeSet.open(dir, config(false).withCompactionGarbageRatio(0.5))) {
            Volume busy = set.create(1, 1);
            Volume clean = set.create(2, 2);
            for (int i = 0; i < 10; i++) {
                busy.append(i, 1, bytes(i, 1000));
                clean.append(i, 1, bytes(i, 1000));
            }
            for (int i = 0; i < 8; i++) {
                busy.delete(i, 1);
            }
            assertThat(set.compactDue()).containsExactly(1);
            assertThat(busy.stats().garbageBytes()).isZero();
            assertThat(busy.stats().generation()).isEqualTo(1);
            assertThat(clean.stats().generation()).isZero();
            assertThat(set.compactDue()).isEmpty();
            assertThat(toArray(busy.read(9, 1))).isEqualTo(bytes(9, 1000));
        }
    }

    @Test
    void compactionRunsOnATimer() throws Exception {
        java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (VolumeSet set = VolumeSet.open(dir, config(false).withCompactionGarbageRatio(0.5))) {
            Volume v = set.create(1, 1);
            for (int i = 0; i < 10; i++) {
                v.append(i, 1, bytes(i, 1000));
            }
            for (int i = 0; i < 9; i++) {
                v.delete(i, 1);
            }
            set.scheduleCompaction(timer, java.time.Duration.ofMillis(20));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                    .until(() -> v.stats().generation() == 1);
            assertThat(v.stats().garbageBytes()).isZero();
        } finally {
            timer.shutdownNow();
            timer.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
