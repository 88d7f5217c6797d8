package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.assertCode;
import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.volume.format.NeedleFormat;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small records are written over zeros written ahead of them: the {@code .dat} file of an open
 * volume is longer than its records, and every way the volume stops leaves a file that ends at
 * its last record.
 */
class PreallocationTest {
    @TempDir
    Path dir;

    private Path dat() {
        return dir.resolve("1.dat");
    }

    @Test
    void anOpenVolumeWritesAheadAndACloseCutsBackToTheLastRecord() throws Exception {
        long end;
        try (Volume v = Volume.create(dir, 1, 42, config(true))) {
            for (int i = 1; i <= 50; i++) {
                v.append(i, i, bytes(i, 4096));
            }
            end = v.stats().sizeBytes();
            // Written a megabyte past the first record, and not again since.
            assertThat(Files.size(dat())).isGreaterThan(end).isLessThanOrEqualTo(end + Volume.PREALLOCATE_BYTES);
        }
        assertThat(Files.size(dat())).isEqualTo(end);
        try (Volume v = Volume.open(dir, 1, config(true))) {
            for (int i = 1; i <= 50; i++) {
                assertThat(toArray(v.read(i, i))).isEqualTo(bytes(i, 4096));
            }
        }
    }

    @Test
    void zerosAreWrittenAgainWhenTheRecordsReachTheirEnd() throws Exception {
        try (Volume v = Volume.create(dir, 1, 42, config(false))) {
            int records = 2 * Volume.PREALLOCATE_BYTES / 100_000 + 1;
            for (int i = 1; i <= records; i++) {
                v.append(i, i, bytes(i, 100_000));
                assertThat(Files.size(dat())).isGreaterThanOrEqualTo(v.stats().sizeBytes())
                        .isLessThanOrEqualTo(v.stats().sizeBytes() + Volume.PREALLOCATE_BYTES);
            }
            assertThat(v.stats().sizeBytes()).isGreaterThan(2L * Volume.PREALLOCATE_BYTES);
        }
    }

    @Test
    void zerosStopAtTheVolumeSizeLimit() throws Exception {
        long max = 3L << 20;
        VolumeConfig small = config(false).withNeedleSizeBytesMax(1 << 20).withVolumeSizeBytesMax(max);
        try (Volume v = Volume.create(dir, 1, 42, small)) {
            v.append(1, 1, bytes(1, 1000));
            while (v.stats().sizeBytes() + NeedleFormat.recordBytes(200_000) <= max) {
                v.append(2, 2, bytes(2, 200_000));
            }
            assertThat(Files.size(dat())).isEqualTo(max);
            assertCode(VolumeErrorCode.VOLUME_FULL, () -> v.append(3, 3, bytes(3, 200_000)));
            assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 1000));
            assertThat(toArray(v.read(2, 2))).isEqualTo(bytes(2, 200_000));
        }
    }

    /** A crash leaves the zeros, or a torn record and the zeros, after the last record: both are cut. */
    @Test
    void aCrashLeavesZerosThatTheLoaderCuts() throws Exception {
        Path crashed = Files.createDirectory(dir.resolve("crashed"));
        Path torn = Files.createDirectory(dir.resolve("torn"));
        long end;
        try (Volume v = Volume.create(dir, 1, 42, config(true))) {
            for (int i = 1; i <= 20; i++) {
                v.append(i, i, bytes(i, 3000));
            }
            end = v.stats().sizeBytes();
            // The files as a power cut would leave them: copied while the volume is open.
            for (String f : new String[] {"1.dat", "1.idx"}) {
                Files.copy(dir.resolve(f), crashed.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                Files.copy(dir.resolve(f), torn.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        assertThat(Files.size(crashed.resolve("1.dat"))).isGreaterThan(end);
        // Half of a record that was never acknowledged, in the zeros.
        try (RandomAccessFile f = new RandomAccessFile(torn.resolve("1.dat").toFile(), "rw")) {
            byte[] record = new byte[NeedleFormat.HEADER_BYTES + 1000];
            ByteBuffer encoded = NeedleFormat.encode(42, 0, 21, 21, ByteBuffer.wrap(bytes(21, 3000)), 21);
            encoded.get(record);
            f.seek(end);
            f.write(record);
        }
        for (Path d : new Path[] {crashed, torn}) {
            try (Volume v = Volume.open(d, 1, config(true))) {
                assertThat(Files.size(d.resolve("1.dat"))).as("%s", d).isEqualTo(end);
                for (int i = 1; i <= 20; i++) {
                    assertThat(toArray(v.read(i, i))).isEqualTo(bytes(i, 3000));
                }
                assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(21, 21));
                assertThat(v.append(22, 22, bytes(22, 10))).isEqualTo(21);
            }
            try (Volume v = Volume.open(d, 1, config(true))) {
                assertThat(toArray(v.read(22, 22))).isEqualTo(bytes(22, 10));
                assertThat(v.stats().liveNeedles()).isEqualTo(21);
            }
        }
    }

    @Test
    void sealingCutsTheZeros() throws Exception {
        try (Volume v = Volume.create(dir, 1, 42, config(true))) {
            v.append(1, 1, bytes(1, 100));
            v.seal();
            assertThat(Files.size(dat())).isEqualTo(v.stats().sizeBytes());
            v.unseal();
            v.append(2, 2, bytes(2, 100));
            assertThat(Files.size(dat())).isGreaterThan(v.stats().sizeBytes());
        }
    }

    /** No room for the zeros (a full disk, a file size limit): the records are appended as they come. */
    @Test
    void whenZerosCannotBeWrittenRecordsAreAppended() throws Exception {
        VolumeTestSupport.ArmedIoFailure full = new VolumeTestSupport.ArmedIoFailure("append.preallocated",
                "No space left on device");
        full.armed = true;
        try (Volume v = Volume.create(dir, 1, 42, config(true), full)) {
            for (int i = 1; i <= 5; i++) {
                v.append(i, i, bytes(i, 777));
                assertThat(Files.size(dat())).isEqualTo(v.stats().sizeBytes());
            }
            full.armed = false;
            v.append(6, 6, bytes(6, 777));
            assertThat(Files.size(dat())).isGreaterThan(v.stats().sizeBytes());
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            for (int i = 1; i <= 6; i++) {
                assertThat(toArray(v.read(i, i))).isEqualTo(bytes(i, 777));
            }
        }
    }
}
