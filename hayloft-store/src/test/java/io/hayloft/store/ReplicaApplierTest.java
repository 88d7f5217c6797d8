package io.hayloft.store;

import static io.hayloft.store.StoreTestSupport.WAIT_SECONDS;
import static io.hayloft.store.StoreTestSupport.bytes;
import static io.hayloft.store.StoreTestSupport.codeOf;
import static io.hayloft.store.StoreTestSupport.crc;
import static io.hayloft.store.StoreTestSupport.fid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secondary applies the records that arrive together as one batch, in one task, and the rest
 * (out of order, damaged, or after such a one) each in a task of its own, as before. The tasks are
 * held by the test and run when it says, so what is batched is certain.
 */
class ReplicaApplierTest {
    /** Long enough for any record's turn to come in these tests. */
    private static final long ORDER_WAIT_MS = 10_000;

    @TempDir
    Path dir;

    private StoreFixture stores;
    private StoreService secondary;
    private final HeldTasks tasks = new HeldTasks();

    /** Tasks kept until the test starts them, each on a virtual thread of its own. */
    private static final class HeldTasks implements Executor {
        final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
        final List<Thread> started = new CopyOnWriteArrayList<>();
        volatile boolean rejecting;

        @Override
        public void execute(Runnable task) {
            if (rejecting) {
                throw new RejectedExecutionException("stopping");
            }
            held.add(task);
        }

        int ran() {
            return started.size();
        }

        /** Starts the oldest task held, without waiting for it. */
        Thread startOne() {
            Runnable task = held.poll();
            assertThat(task).as("a task held").isNotNull();
            Thread t = Thread.ofVirtual().start(task);
            started.add(t);
            return t;
        }

        /** Starts the tasks held now, and those they submit meanwhile, without waiting for them. */
        void startHeld() {
            for (Runnable task; (task = held.poll()) != null; ) {
                started.add(Thread.ofVirtual().start(task));
            }
        }

        /** Runs the tasks held, and those they submit, until none is left and all have ended. */
        void runAll() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (true) {
                startHeld();
                if (held.isEmpty() && started.stream().noneMatch(Thread::isAlive)) {
                    return;
                }
                assertThat(System.nanoTime() - deadline).as("tasks still running").isNegative();
                Thread.sleep(5);
            }
        }
    }

    @BeforeEach
    void setUp() {
        stores = new StoreFixture(dir, VolumeConfig.defaults());
    }

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    /** A primary A and a secondary B of volume 1; B refuses a record after a missing one after {@code orderWaitMs}. */
    private void start(long orderWaitMs) throws Exception {
        StoreConfig config = StoreConfig.defaults().withReplicaOrderWaitMs(orderWaitMs);
        stores.start("A", config);
        stores.start("B", config);
        stores.createVolume(1, 42, "A", "B");
        secondary = stores.get("B").service();
    }

    private static ReplicateRequest record(long sequence, int size) {
        byte[] data = bytes(sequence, size);
        return ReplicateRequest.newBuilder().setFid(fid(sequence * 10, (int) sequence)).setSequence(sequence)
                .setData(ByteString.copyFrom(data)).setCrc32C(crc(data)).setPrimaryStoreId("A").build();
    }

    private ReplicaApplier applier() {
        return new ReplicaApplier("B", secondary.replicaRecords(), secondary.replicaOrder(), tasks);
    }

    /** Admits the record and submits it; the future holds its sequence or the answer's error. */
    private CompletableFuture<Long> submit(ReplicaApplier applier, ReplicateRequest record) throws Exception {
        Volume volume = secondary.replicaRecords().admit(record);
        CompletableFuture<Long> answered = new CompletableFuture<>();
        applier.submit(volume, record, (r, error) -> {
            assertThat(r).isSameAs(record);
            if (error == null) {
                answered.complete(r.getSequence());
            } else {
                answered.completeExceptionally(error);
            }
        });
        return answered;
    }

    private static Throwable failure(CompletableFuture<Long> answered) throws Exception {
        try {
            answered.get(WAIT_SECONDS, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    private void assertHolds(long... sequences) throws Exception {
        List<ReplicatedNeedle> held = stores.records("B", 1);
        assertThat(held).extracting(ReplicatedNeedle::sequence).containsExactly(
                Arrays.stream(sequences).boxed().toArray(Long[]::new));
    }

    @Test
    void recordsThatArriveTogetherAreAppliedInOneTask() throws Exception {
        start(ORDER_WAIT_MS);
        ReplicaApplier applier = applier();
        List<CompletableFuture<Long>> answers = new ArrayList<>();
        for (long s = 1; s <= 40; s++) {
            answers.add(submit(applier, record(s, (int) (s * 97 % 4000))));
        }
        assertThat(tasks.held).hasSize(1);
        tasks.runAll();
        assertThat(tasks.ran()).isEqualTo(1);
        for (int i = 0; i < answers.size(); i++) {
            assertThat(answers.get(i).get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(i + 1L);
        }
        assertHolds(LongStream.rangeClosed(1, 40).toArray());
        assertThat(secondary.bytesInFlight()).isZero();
        // The next ones go on from there, in a task of their own again.
        CompletableFuture<Long> next = submit(applier, record(41, 10));
        tasks.runAll();
        assertThat(next.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(41);
    }

    /** Records whose turn has not come wait each on a thread of its own, and go once the lower ones came. */
    @Test
    void recordsOutOfOrderWaitForTheirTurnEachAlone() throws Exception {
        start(ORDER_WAIT_MS);
        ReplicaApplier applier = applier();
        List<CompletableFuture<Long>> later = new ArrayList<>();
        for (long s = 3; s <= 5; s++) {
            later.add(submit(applier, record(s, 100)));
        }
        // The drain finds sequence 3 early and hands each record to a task of its own.
        assertThat(tasks.startOne().join(Duration.ofSeconds(WAIT_SECONDS))).isTrue();
        assertThat(tasks.held).hasSize(3);
        tasks.startHeld();
        await().atMost(Duration.ofSeconds(WAIT_SECONDS)).until(() -> secondary.replicaOrder().waiting(1) == 3);
        assertThat(later).noneMatch(CompletableFuture::isDone);
        CompletableFuture<Long> first = submit(applier, record(1, 100));
        CompletableFuture<Long> second = submit(applier, record(2, 100));
        tasks.runAll();
        assertThat(first.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(second.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(2);
        for (int i = 0; i < later.size(); i++) {
            assertThat(later.get(i).get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(i + 3L);
        }
        assertHolds(1, 2, 3, 4, 5);
        assertThat(secondary.bytesInFlight()).isZero();
    }

    /**
     * A damaged record stops the batch: the ones before it are applied, it is refused, and the
     * ones after it are refused once the wait for it runs out; a large one goes alone.
     */
    @Test
    void aDamagedRecordEndsTheBatchAndNothingPassesIt() throws Exception {
        start(3_000);  // long enough for the records before the damaged one on a loaded machine
        ReplicaApplier applier = applier();
        CompletableFuture<Long> one = submit(applier, record(1, 100));
        CompletableFuture<Long> large = submit(applier, record(2, 300_000));
        CompletableFuture<Long> three = submit(applier, record(3, 100));
        ReplicateRequest good = record(4, 100);
        CompletableFuture<Long> damaged = submit(applier, good.toBuilder().setCrc32C(good.getCrc32C() + 1).build());
        CompletableFuture<Long> five = submit(applier, record(5, 100));
        tasks.runAll();
        assertThat(one.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(large.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(three.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(codeOf(failure(damaged))).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(codeOf(failure(five))).isEqualTo(ErrorCode.SEQUENCE_GAP);
        assertHolds(1, 2, 3);
        assertThat(secondary.bytesInFlight()).isZero();
    }

    /**
     * Records applied together that had their place and were not written (the replica was
     * sealed under them) are refused, and so is the next one, which must not pass them; once
     * they come again, it goes.
     */
    @Test
    void recordsNotWrittenAfterTheirPlaceHoldBackTheNextOne() throws Exception {
        start(ORDER_WAIT_MS);
        ReplicaApplier applier = applier();
        Volume replica = stores.get("B").volumes().get(1);
        replica.seal();
        CompletableFuture<Long> one = submit(applier, record(1, 100));
        CompletableFuture<Long> two = submit(applier, record(2, 100));
        tasks.runAll();
        assertThat(codeOf(failure(one))).isEqualTo(ErrorCode.READ_ONLY);
        assertThat(codeOf(failure(two))).isEqualTo(ErrorCode.READ_ONLY);
        replica.unseal();
        CompletableFuture<Long> three = submit(applier, record(3, 100));
        tasks.runAll();
        assertThat(codeOf(failure(three))).isEqualTo(ErrorCode.SEQUENCE_GAP);
        List<CompletableFuture<Long>> again = new ArrayList<>();
        for (long s = 1; s <= 3; s++) {
            again.add(submit(applier, record(s, 100)));
        }
        tasks.runAll();
        for (int i = 0; i < again.size(); i++) {
            assertThat(again.get(i).get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(i + 1L);
        }
        assertHolds(1, 2, 3);
        assertThat(secondary.bytesInFlight()).isZero();
    }

    /** A record from a store that is not the volume's primary is refused with the rest of its batch. */
    @Test
    void recordsFromAnotherPrimaryAreRefused() throws Exception {
        start(ORDER_WAIT_MS);
        ReplicaApplier applier = applier();
        CompletableFuture<Long> one = submit(applier, record(1, 10).toBuilder().setPrimaryStoreId("C").build());
        CompletableFuture<Long> two = submit(applier, record(2, 10).toBuilder().setPrimaryStoreId("C").build());
        tasks.runAll();
        assertThat(codeOf(failure(one))).isEqualTo(ErrorCode.NOT_PRIMARY);
        assertThat(codeOf(failure(two))).isEqualTo(ErrorCode.NOT_PRIMARY);
        assertHolds();
        assertThat(secondary.bytesInFlight()).isZero();
    }

    @Test
    void aStoppingStoreAnswersUnavailableAndReleasesTheBytes() throws Exception {
        start(ORDER_WAIT_MS);
        ReplicaApplier applier = applier();
        tasks.rejecting = true;
        Throwable refused = failure(submit(applier, record(1, 1000)));
        assertThat(refused).isInstanceOf(StatusRuntimeException.class);
        assertThat(codeOf(refused)).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(secondary.bytesInFlight()).isZero();
        tasks.rejecting = false;
        CompletableFuture<Long> next = submit(applier, record(1, 1000));
        tasks.runAll();
        assertThat(next.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
    }
}
