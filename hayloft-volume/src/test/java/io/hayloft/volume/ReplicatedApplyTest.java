package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.assertCode;
import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replicated records handed over in sequence order from many threads, as a secondary store does. */
class ReplicatedApplyTest {
    private static final long WAIT_MS = 30_000;

    @TempDir
    Path dir;

    /** Lets the record with sequence s through only once s - 1 was handed over, like a store's sequencer. */
    static final class Turns {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private long next = 1;

        void await(long sequence) throws InterruptedException {
            lock.lock();
            try {
                long left = TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
                while (next != sequence) {
                    if (left <= 0) {
                        throw new AssertionError("sequence " + sequence + " never got its turn; next is " + next);
                    }
                    left = changed.awaitNanos(left);
                }
            } finally {
                lock.unlock();
            }
        }

        void handedOver(long sequence) {
            lock.lock();
            try {
                next = sequence + 1;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private static ReplicatedNeedle record(long sequence, int length) {
        return new ReplicatedNeedle(sequence * 10, (int) sequence, false, sequence,
                ByteBuffer.wrap(bytes(sequence * 10, length)));
    }

    /** Applies records 1..sizes.length, one thread each, handed over in order through the hook. */
    private static void applyInOrder(Volume v, int[] sizes, Runnable afterEachQueued) throws Exception {
        Turns turns = new Turns();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> applied = new ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                long sequence = i + 1;
                int size = sizes[i];
                applied.add(pool.submit(() -> {
                    turns.await(sequence);
                    v.applyReplicated(record(sequence, size), () -> {
                        turns.handedOver(sequence);
                        afterEachQueued.run();
                    });
                    return null;
                }));
            }
            for (Future<?> f : applied) {
                f.get(WAIT_MS, TimeUnit.MILLISECONDS);
            }
        }
    }

    private static void assertHolds(Volume v, int[] sizes) throws VolumeException {
        List<ReplicatedNeedle> records = new ArrayList<>();
        long after = 0;
        List<ReplicatedNeedle> batch;
        while (!(batch = v.recordsAfter(after, 8 << 20)).isEmpty()) {
            records.addAll(batch);
            after = batch.getLast().sequence();
        }
        assertThat(records).hasSize(sizes.length);
        for (int i = 0; i < sizes.length; i++) {
            ReplicatedNeedle r = records.get(i);
            assertThat(r.sequence()).isEqualTo(i + 1);
            assertThat(r.needleId()).isEqualTo((i + 1) * 10L);
            assertThat(toArray(r.data())).isEqualTo(bytes((i + 1) * 10L, sizes[i]));
        }
    }

    /**
     * While the first batch is held in its write, every other record gets queued behind it: the
     * hook lets the next record go before the previous one is durable, so the rest share one fsync.
     */
    @Test
    void recordsHandedOverWhenQueuedShareFsyncs() throws Exception {
        int n = 200;
        CountDownLatch allQueued = new CountDownLatch(n);
        AtomicBoolean firstWrite = new AtomicBoolean(true);
        AtomicInteger fsyncs = new AtomicInteger();
        Failpoints holdFirstWrite = name -> {
            if (name.equals("append.fsynced")) {
                fsyncs.incrementAndGet();
            }
            if (name.equals("append.written") && firstWrite.getAndSet(false)) {
                try {
                    assertThat(allQueued.await(WAIT_MS, TimeUnit.MILLISECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException();
                }
            }
        };
        int[] sizes = new int[n];
        for (int i = 0; i < n; i++) {
            sizes[i] = (i * 37) % 3000;
        }
        try (Volume v = Volume.create(dir, 1, 7, config(true), holdFirstWrite)) {
            applyInOrder(v, sizes, allQueued::countDown);
            assertHolds(v, sizes);
            assertThat(fsyncs.get()).isLessThanOrEqualTo(2);
        }
    }

    /**
     * Large records are written outside group commit; one that follows small ones still queued
     * must wait for them, or they would fail as sequence regressions.
     */
    @Test
    void largeAndSmallRecordsKeepTheirOrder() throws Exception {
        int[] sizes = new int[120];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = switch (i % 6) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> 4097;
                case 3 -> 300_000;
                case 4 -> (256 << 10) - 40;
                default -> 700_001;
            };
        }
        try (Volume v = Volume.create(dir, 1, 7, config(true))) {
            applyInOrder(v, sizes, () -> {});
            assertHolds(v, sizes);
            assertThat(v.lastSequence()).isEqualTo(sizes.length);
        }
    }

    @Test
    void aRefusedRecordDoesNotRunTheHook() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        try (Volume v = Volume.create(dir, 1, 7, config(false))) {
            assertCode(VolumeErrorCode.BAD_INPUT, () -> v.applyReplicated(
                    new ReplicatedNeedle(1, 1, true, 1, ByteBuffer.wrap(new byte[1])), () -> ran.set(true)));
            v.applyReplicated(record(1, 10), () -> ran.set(true));
            assertThat(ran).isTrue();
            assertCode(VolumeErrorCode.SEQUENCE_REGRESSION, () -> v.applyReplicated(record(1, 10), () -> {}));
        }
    }

    /**
     * Records applied together are written and fsynced as one batch, in the caller's thread,
     * and hold their sequences; the hook runs once, when they all have their place.
     */
    @Test
    void recordsAppliedTogetherShareOneFsync() throws Exception {
        AtomicInteger fsyncs = new AtomicInteger();
        Failpoints countFsyncs = name -> {
            if (name.equals("append.fsynced")) {
                fsyncs.incrementAndGet();
            }
        };
        int[] sizes = new int[64];
        List<ReplicatedNeedle> records = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = (i * 53) % 5000;
            records.add(record(i + 1, sizes[i]));
        }
        AtomicInteger hooks = new AtomicInteger();
        try (Volume v = Volume.create(dir, 1, 7, config(true), countFsyncs)) {
            List<VolumeException> outcomes = v.applyReplicatedAll(records, hooks::incrementAndGet);
            assertThat(outcomes).hasSize(sizes.length).containsOnlyNulls();
            assertThat(hooks.get()).isEqualTo(1);
            assertThat(fsyncs.get()).isEqualTo(1);
            assertThat(v.lastSequence()).isEqualTo(sizes.length);
            assertHolds(v, sizes);
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            assertHolds(v, sizes);
        }
    }

    /** Each record applied together has its own outcome: one the volume has already fails alone. */
    @Test
    void recordsAppliedTogetherFailOneByOne() throws Exception {
        try (Volume v = Volume.create(dir, 1, 7, config(false))) {
            v.applyReplicatedAll(List.of(record(1, 10), record(2, 20)), () -> {});
            List<VolumeException> outcomes = v.applyReplicatedAll(
                    List.of(record(2, 20), record(3, 30), record(4, 40)), () -> {});
            assertThat(outcomes.get(0).code()).isEqualTo(VolumeErrorCode.SEQUENCE_REGRESSION);
            assertThat(outcomes.subList(1, 3)).containsOnlyNulls();
            assertHolds(v, new int[] {10, 20, 30, 40});
            v.seal();
            outcomes = v.applyReplicatedAll(List.of(record(5, 50), record(6, 60)), () -> {});
            assertThat(outcomes).allSatisfy(e -> assertThat(e.code()).isEqualTo(VolumeErrorCode.READ_ONLY));
            assertThat(v.lastSequence()).isEqualTo(4);
        }
    }

    /** Bad input, a record too large for group commit, or a closed volume: none gets a place. */
    @Test
    void recordsThatCannotBeAppliedTogetherAreAllRefused() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        Volume v = Volume.create(dir, 1, 7, config(false));
        try (v) {
            assertCode(VolumeErrorCode.BAD_INPUT, () -> v.applyReplicatedAll(List.of(record(1, 10),
                    new ReplicatedNeedle(2, 2, true, 2, ByteBuffer.wrap(new byte[1]))), () -> ran.set(true)));
            assertCode(VolumeErrorCode.BAD_INPUT, () -> v.applyReplicatedAll(List.of(record(1, 10),
                    record(2, 300_000)), () -> ran.set(true)));
            assertCode(VolumeErrorCode.BAD_INPUT, () -> v.applyReplicatedAll(List.of(record(0, 10)),
                    () -> ran.set(true)));
            assertThat(v.lastSequence()).isZero();
            assertThat(Volume.appendsInGroup(200_000)).isTrue();
            assertThat(Volume.appendsInGroup(300_000)).isFalse();
        }
        assertCode(VolumeErrorCode.CLOSED, () -> v.applyReplicatedAll(List.of(record(1, 10)), () -> ran.set(true)));
        assertThat(ran).isFalse();
    }
}
