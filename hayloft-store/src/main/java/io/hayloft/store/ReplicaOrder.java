package io.hayloft.store;

import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the records a secondary receives from its primary to their volume in sequence order, and
 * never past a missing one.
 *
 * <p>Implementation notes. A primary forwards concurrent writes concurrently, so they can arrive
 * out of order, while the volume takes a given sequence only above its last one. A record with
 * sequence s therefore waits until every lower sequence was handed over (s is the next expected,
 * which starts at the volume's last sequence + 1). "Handed over" means its place in the volume's
 * write order is fixed ({@link Volume#applyReplicated(ReplicatedNeedle, Runnable)}), not that it is
 * durable: the next record goes on at once and many share one fsync. The wait is bounded: a lower
 * record that never comes (its forward failed, or the primary crashed after its local append)
 * must not hold writes forever. The bound is on a stall: it starts over whenever the next
 * expected sequence moves, because under load a record can wait behind a long run of lower ones
 * that are all arriving, and giving up on them would fail writes that were merely slow.
 *
 * <p>After the bound without progress the record is refused ({@code SEQUENCE_GAP}), and so is
 * every record above one the volume refused (a full disk, a sealed volume), whether before or
 * after the record had its place: the replica never takes a record past a missing one. Taking it
 * would leave a gap no catch-up fills, since catch-up brings the records after a replica's last
 * sequence, and the replicas would differ for good. Refusing fails the write on the primary,
 * whose failure rule makes the volume read-only; meta's replication manager then catches this
 * replica up in order and makes it writable again.
 * Nothing acknowledged is lost: the primary acknowledges a write only once every replica took it.
 */
final class ReplicaOrder {
    private static final Logger log = LoggerFactory.getLogger(ReplicaOrder.class);

    private final long waitNanos;
    private final ConcurrentMap<Integer, VolumeOrder> volumes = new ConcurrentHashMap<>();

    ReplicaOrder(long waitMs) {
        this.waitNanos = TimeUnit.MILLISECONDS.toNanos(waitMs);
    }

    /**
     * Applies a record from the primary once the lower sequences were handed over; refuses it
     * ({@code SEQUENCE_GAP}) when one of them was refused or did not come within the wait.
     */
    void apply(Volume volume, ReplicatedNeedle record) throws VolumeException, InterruptedException {
        // A replica dropped and made again (a rebuild) starts its order anew: what the old one
        // was handed says nothing of what the new one holds.
        VolumeOrder order = orderOf(volume);
        order.awaitTurn(volume, record.sequence(), waitNanos);
        AtomicBoolean handedOver = new AtomicBoolean();
        Runnable onQueued = () -> {
            if (handedOver.compareAndSet(false, true)) {
                order.handedOver(record.sequence());
            }
        };
        try {
            volume.applyReplicated(record, onQueued);
        } catch (VolumeException | RuntimeException e) {
            if (!handedOver.get()) {
                order.refused(volume, record.sequence());  // the ones above it must not go past it
            } else if (volume.lastSequence() < record.sequence()) {
                order.notWritten(record.sequence());  // it had its place, and was not written after all
            }
            throw e;
        }
    }

    /**
     * Whether a record with this sequence would be handed over at once, without waiting for a
     * lower one; does not wait.
     */
    boolean isTurn(Volume volume, long sequence) {
        return orderOf(volume).isTurn(volume, sequence);
    }

    /**
     * Applies records of consecutive sequences together ({@link Volume#applyReplicatedAll}), once
     * the first one's turn comes, as {@link #apply} applies one; returns one outcome per record,
     * null when it is durable.
     *
     * @throws VolumeException when none of them got a place: the first was refused, or did not
     *     get its turn within the wait
     */
    List<VolumeException> applyAll(Volume volume, List<ReplicatedNeedle> records)
            throws VolumeException, InterruptedException {
        for (int i = 1; i < records.size(); i++) {
            if (records.get(i).sequence() != records.get(i - 1).sequence() + 1) {
                throw new IllegalArgumentException("records applied together must have consecutive sequences");
            }
        }
        long first = records.get(0).sequence();
        long last = records.get(records.size() - 1).sequence();
        VolumeOrder order = orderOf(volume);
        order.awaitTurn(volume, first, waitNanos);
        AtomicBoolean handedOver = new AtomicBoolean();
        List<VolumeException> outcomes;
        try {
            outcomes = volume.applyReplicatedAll(records, () -> {
                if (handedOver.compareAndSet(false, true)) {
                    order.handedOver(last);
                }
            });
        } catch (VolumeException | RuntimeException e) {
            if (!handedOver.get()) {
                order.refused(volume, first);
            } else if (volume.lastSequence() < last) {
                // They had their place: the order goes back to the first one not written.
                order.notWritten(Math.max(first, volume.lastSequence() + 1));
            }
            throw e;
        }
        // Records that had their place and were not written: the order goes back to the lowest.
        for (int i = 0; i < outcomes.size(); i++) {
            long sequence = records.get(i).sequence();
            if (outcomes.get(i) != null && volume.lastSequence() < sequence) {
                order.notWritten(sequence);
                break;
            }
        }
        return outcomes;
    }

    /** The order of this replica; made anew for a new replica of the same volume id. */
    private VolumeOrder orderOf(Volume volume) {
        VolumeOrder known = volumes.get(volume.id());
        if (known != null && known.volume == volume) {
            return known;  // as nearly always: no lock on the map for each record
        }
        return volumes.compute(volume.id(), (id, o) -> o != null && o.volume == volume ? o : new VolumeOrder(volume));
    }

    /** Records of the volume waiting for a lower sequence, for tests. */
    int waiting(int volumeId) {
        VolumeOrder order = volumes.get(volumeId);
        return order == null ? 0 : order.waiting();
    }

    /** The order of one volume. */
    private static final class VolumeOrder {
        /** The replica this order is for; a new one gets a new order. */
        final Volume volume;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition turn = lock.newCondition();
        /** The sequence after the last one handed over; 0 before the first. */
        private long next;
        /** The highest sequence the volume refused before it got its place; 0 for none. */
        private long refused;
        private int waiting;

        VolumeOrder(Volume volume) {
            this.volume = volume;
        }

        boolean isTurn(Volume volume, long sequence) {
            lock.lock();
            try {
                return sequence <= Math.max(next, volume.lastSequence() + 1);
            } finally {
                lock.unlock();
            }
        }

        void awaitTurn(Volume volume, long sequence, long waitNanos) throws InterruptedException, VolumeException {
            lock.lock();
            try {
                long left = waitNanos;
                long waitedFor = 0;
                long expected;
                // The volume's own last sequence covers the start and records written by other means
                // (a catch-up fills what was missing, and the records after it may come again).
                while (sequence > (expected = Math.max(next, volume.lastSequence() + 1))) {
                    if (refused >= expected) {
                        throw gap(volume, sequence, expected, "was refused");
                    }
                    if (expected != waitedFor) {
                        // The lower records are coming in: the bound is on a stall, not on the queue ahead.
                        waitedFor = expected;
                        left = waitNanos;
                    }
                    if (left <= 0) {
                        log.warn("volume {}: sequence {} waited {} ms for {}, which did not come; refused until a "
                                + "catch-up brings the missing record", volume.id(), sequence,
                                TimeUnit.NANOSECONDS.toMillis(waitNanos), expected);
                        throw gap(volume, sequence, expected, "did not come within "
                                + TimeUnit.NANOSECONDS.toMillis(waitNanos) + " ms");
                    }
                    waiting++;
                    try {
                        left = turn.awaitNanos(left);
                    } finally {
                        waiting--;
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        private static VolumeException gap(Volume volume, long sequence, long expected, String why) {
            return new VolumeException(VolumeErrorCode.SEQUENCE_GAP, "volume " + volume.id() + " refuses sequence "
                    + sequence + ": sequence " + expected + " " + why + ", and a replica takes no record past a "
                    + "missing one");
        }

        /** A record the volume refused before it got its place: the ones above it wait for a catch-up. */
        void refused(Volume volume, long sequence) {
            lock.lock();
            try {
                if (sequence >= Math.max(next, volume.lastSequence() + 1)) {  // not a record it already had
                    refused = Math.max(refused, sequence);
                }
                turn.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /**
         * A record that had its place but was not written (the volume was sealed or failed under
         * it): the order goes back to it, and the ones above it are refused until it comes.
         */
        void notWritten(long sequence) {
            lock.lock();
            try {
                next = Math.min(next, sequence);
                refused = Math.max(refused, sequence);
                turn.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void handedOver(long sequence) {
            lock.lock();
            try {
                next = Math.max(next, sequence + 1);
                turn.signalAll();
            } finally {
                lock.unlock();
            }
        }

        int waiting() {
            lock.lock();
            try {
                return waiting;
            } finally {
                lock.unlock();
            }
        }
    }
}
