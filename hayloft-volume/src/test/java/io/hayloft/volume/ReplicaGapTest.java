package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.assertCode;
import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica never takes a record past one that had its place in the write order but failed to
 * be written. Found by the fault-injection suite (seed 8676270465441): a secondary whose files
 * were capped failed to write a 3 KiB record, then wrote the small record after it, which still
 * fit, at the same offset; the replica kept a gap no catch-up fills and differed from the others
 * for good. The same holds for a small record queued for group commit and then refused because
 * the volume was sealed under it: the likely cause of a fault-injection failure (seed
 * 64639463734911) in which a store that meta took for dead kept forwarding to secondaries a
 * repair had just sealed, and one replica kept a record another lacked.
 */
class ReplicaGapTest {
    @TempDir
    Path dir;

    private static ReplicatedNeedle record(long sequence, int length) {
        return new ReplicatedNeedle(sequence, (int) sequence, false, sequence, ByteBuffer.wrap(bytes(sequence, length)));
    }

    @Test
    void aRecordThatFailedToBeWrittenHoldsBackTheOnesAfterItUntilItComes() throws Exception {
        VolumeTestSupport.ArmedIoFailure failure = new VolumeTestSupport.ArmedIoFailure("append.written",
                "File too large");
        try (Volume v = Volume.create(dir, 1, 0x5EED, config(true), failure)) {
            for (long s = 1; s <= 5; s++) {
                v.applyReplicated(record(s, 100));
            }
            failure.armed = true;
            assertCode(VolumeErrorCode.IO_ERROR, () -> v.applyReplicated(record(6, 3000)));
            failure.armed = false;
            assertCode(VolumeErrorCode.SEQUENCE_GAP, () -> v.applyReplicated(record(7, 10)));
            // A large record, written outside group commit, is held back the same way.
            assertCode(VolumeErrorCode.SEQUENCE_GAP, () -> v.applyReplicated(record(8, 300 << 10)));
            assertThat(v.lastSequence()).isEqualTo(5);

            // A catch-up brings the missing record; the ones after it follow.
            v.applyReplicated(record(6, 3000));
            v.applyReplicated(record(7, 10));
            v.applyReplicated(record(8, 300 << 10));
            assertThat(v.recordsAfter(0, Long.MAX_VALUE)).extracting(ReplicatedNeedle::sequence)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 8).boxed().toList());
            // A client's own appends take the next sequences as always.
            assertThat(v.append(100, 1, bytes(100, 10))).isEqualTo(9);
        }
    }

    @Test
    void aRecordRefusedAfterItHadItsPlaceHoldsBackTheOnesAfterIt() throws Exception {
        try (Volume v = Volume.create(dir, 1, 0x5EED, config(true))) {
            v.applyReplicated(record(1, 100));
            v.seal();
            // A small record is queued for group commit (its place is fixed, and whoever hands
            // records over in order lets the next one go), then refused: the volume is sealed.
            AtomicBoolean placed = new AtomicBoolean();
            assertCode(VolumeErrorCode.READ_ONLY, () -> v.applyReplicated(record(2, 100), () -> placed.set(true)));
            assertThat(placed).isTrue();
            v.unseal();
            assertCode(VolumeErrorCode.SEQUENCE_GAP, () -> v.applyReplicated(record(3, 100)));
            assertThat(v.lastSequence()).isEqualTo(1);

            v.applyReplicated(record(2, 100));
            v.applyReplicated(record(3, 100));
            assertThat(v.recordsAfter(0, Long.MAX_VALUE)).extracting(ReplicatedNeedle::sequence)
                    .containsExactly(1L, 2L, 3L);
        }
    }

    @Test
    void aRecordThatDidNotFitHoldsBackASmallerOneAfterIt() throws Exception {
        try (Volume v = Volume.create(dir, 1, 0x5EED, config(true).withNeedleSizeBytesMax(512 << 10).withVolumeSizeBytesMax(1 << 20))) {
            v.applyReplicated(record(1, 400 << 10));
            v.applyReplicated(record(2, 400 << 10));
            // Through group commit, and outside it (a large record).
            assertCode(VolumeErrorCode.VOLUME_FULL, () -> v.applyReplicated(record(3, 250 << 10)));
            assertCode(VolumeErrorCode.SEQUENCE_GAP, () -> v.applyReplicated(record(4, 10)));
            assertCode(VolumeErrorCode.VOLUME_FULL, () -> v.applyReplicated(record(3, 300 << 10)));
            assertCode(VolumeErrorCode.SEQUENCE_GAP, () -> v.applyReplicated(record(4, 10)));
            assertThat(v.lastSequence()).isEqualTo(2);
        }
    }
}
