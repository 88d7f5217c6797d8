package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hayloft.proto.v1.Fid;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The gateway's deletions of blobs let go of, made after the requests that let go of them were answered. */
class ReclaimerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** Records who deleted which fid; each deletion by a worker first waits for {@link #open}. */
    private static final class Deletions implements Consumer<Fid> {
        final Map<Long, String> byWhom = new ConcurrentHashMap<>();
        private final CountDownLatch gate = new CountDownLatch(1);

        void open() {
            gate.countDown();
        }

        @Override
        public void accept(Fid fid) {
            try {
                boolean worker = Thread.currentThread().getName().startsWith("hayloft-reclaim-");
                if (worker && !gate.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never opened the gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
            byWhom.put(fid.getNeedleId(), Thread.currentThread().getName());
        }
    }

    private static List<Fid> fids(int from, int to) {
        List<Fid> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(Fid.newBuilder().setVolumeId(1).setNeedleId(i).setCookie(7).build());
        }
        return out;
    }

    @Test
    void freeReturnsBeforeTheBlobsAreDeletedAndTheWorkersDeleteThemAll() {
        Deletions deletions = new Deletions();
        try (Reclaimer r = new Reclaimer(deletions, 100, 4, WAIT)) {
            r.free(fids(0, 50));
            assertThat(deletions.byWhom).isEmpty();
            deletions.open();
            await().atMost(WAIT).until(() -> deletions.byWhom.size() == 50);
            assertThat(deletions.byWhom.values()).allMatch(name -> name.startsWith("hayloft-reclaim-"));
            assertThat(r.queued()).isZero();
        }
    }

    @Test
    void whenTheQueueIsFullTheCallerDeletesItself() {
        Deletions deletions = new Deletions();
        try (Reclaimer r = new Reclaimer(deletions, 3, 1, WAIT)) {
            r.free(fids(0, 1));
            await().atMost(WAIT).until(() -> r.queued() == 0); // the one worker holds it, at the gate
            r.free(fids(1, 4)); // fills the queue
            assertThat(r.queued()).isEqualTo(3);
            // No room: the caller deletes this one itself, before free returns.
            r.free(fids(4, 5));
            assertThat(deletions.byWhom).containsOnlyKeys(4L).containsEntry(4L, Thread.currentThread().getName());
            deletions.open();
            await().atMost(WAIT).until(() -> deletions.byWhom.size() == 5);
        }
    }

    @Test
    void closeDeletesWhatIsStillQueued() {
        Deletions deletions = new Deletions();
        Reclaimer r = new Reclaimer(deletions, 1000, 2, WAIT);
        r.free(fids(0, 200));
        deletions.open();
        r.close();
        assertThat(deletions.byWhom).hasSize(200);
        // Once closed, a caller deletes its blobs itself.
        r.free(fids(200, 201));
        assertThat(deletions.byWhom).containsEntry(200L, Thread.currentThread().getName());
    }

    @Test
    void closeGivesUpAfterItsTimeoutAndStopsTheWorkers() {
        Deletions deletions = new Deletions(); // never opened
        Reclaimer r = new Reclaimer(deletions, 100, 2, Duration.ofMillis(200));
        r.free(fids(0, 10));
        r.close(); // the two workers wait at the gate until interrupted; eight blobs stay queued
        assertThat(deletions.byWhom).isEmpty();
        assertThat(r.queued()).isEqualTo(8);
        await().atMost(WAIT).until(() -> !r.anyWorkerAlive());
    }

    @Test
    void aFailedDeletionDoesNotStopTheWorker() {
        AtomicInteger calls = new AtomicInteger();
        Map<Long, Boolean> deleted = new ConcurrentHashMap<>();
        Consumer<Fid> flaky = fid -> {
            if (calls.incrementAndGet() % 2 == 1) {
                throw new IllegalStateException("store unavailable");
            }
            deleted.put(fid.getNeedleId(), true);
        };
        try (Reclaimer r = new Reclaimer(flaky, 100, 1, WAIT)) {
            r.free(fids(0, 10));
            await().atMost(WAIT).until(() -> calls.get() == 10);
            assertThat(deleted).hasSize(5);
        }
    }
}
