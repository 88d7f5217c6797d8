package io.hayloft.store;

import io.grpc.StatusRuntimeException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the records a secondary takes from its primaries (by a Replicate stream or a call in the
 * process), a volume's records that arrive together being applied together.
 *
 * <p>Implementation notes. A primary forwards the records of one group commit batch one after the
 * other, as soon as it has written them. Each volume has a queue of admitted records and at most
 * one thread draining it: the records that arrived while it applied the previous ones are taken
 * all at once, and those that follow one another (consecutive sequences from one primary, small
 * enough for group commit, their CRC32C matching, the first one's turn come) are queued for
 * group commit together and written and fsynced as one batch in that thread
 * ({@link ReplicaRecords#applyTogether}). The others (a record out of order, a large or damaged
 * one, and any after it) are each applied on a thread of their own, waiting for their turn
 * ({@link ReplicaOrder}), as every record was before: nothing a drainer waits for is behind it
 * in its own queue. One task per batch instead of one per record: with 16 writers to the
 * one-process server, fewer hand-offs between threads for each PUT (docs/benchmarks.md).
 */
final class ReplicaApplier {
    private static final Logger log = LoggerFactory.getLogger(ReplicaApplier.class);

    /** Told once what became of a record: null when it is durable, else the status to answer. */
    @FunctionalInterface
    interface Answer {
        void answer(ReplicateRequest record, StatusRuntimeException error);
    }

    private record Item(Volume volume, ReplicateRequest record, Answer answer) {}

    /** One volume's admitted records, and whether a thread is draining them. */
    private static final class Queue {
        final ConcurrentLinkedQueue<Item> items = new ConcurrentLinkedQueue<>();
        final AtomicBoolean draining = new AtomicBoolean();
    }

    private final String storeId;
    private final ReplicaRecords records;
    private final ReplicaOrder order;
    private final Executor executor;
    private final ConcurrentHashMap<Integer, Queue> queues = new ConcurrentHashMap<>();

    ReplicaApplier(String storeId, ReplicaRecords records, ReplicaOrder order, Executor executor) {
        this.storeId = storeId;
        this.records = records;
        this.order = order;
        this.executor = executor;
    }

    /**
     * Applies a record admitted by {@link ReplicaRecords#admit}; {@code answer} is called once,
     * from another thread, or from this one when the store is stopping. Does not block.
     */
    void submit(Volume volume, ReplicateRequest record, Answer answer) {
        Queue queue = queues.computeIfAbsent(volume.id(), id -> new Queue());
        queue.items.add(new Item(volume, record, answer));
        if (!queue.draining.compareAndSet(false, true)) {
            return; // its drainer takes it
        }
        try {
            executor.execute(() -> drain(queue));
        } catch (RejectedExecutionException e) {
            queue.draining.set(false);
            for (Item item; (item = queue.items.poll()) != null; ) {
                stopping(item);
            }
        }
    }

    private void drain(Queue queue) {
        try {
            while (true) {
                List<Item> taken = new ArrayList<>();
                for (Item item; (item = queue.items.poll()) != null; ) {
                    taken.add(item);
                }
                if (taken.isEmpty()) {
                    queue.draining.set(false);
                    // A record queued after the poll whose submitter saw this thread still draining.
                    if (queue.items.isEmpty() || !queue.draining.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                apply(taken);
            }
        } catch (RuntimeException | Error e) {
            // Not expected: the records left are drained by the next one submitted.
            queue.draining.set(false);
            log.error("store {}: applying replicated records failed", storeId, e);
            throw e;
        }
    }

    private void apply(List<Item> taken) {
        taken.sort(Comparator.comparingLong(i -> i.record().getSequence()));
        List<Item> together;
        try {
            together = together(taken);
        } catch (RuntimeException e) {
            // Not expected: each record is then applied alone, as any that cannot be grouped.
            log.warn("store {}: grouping replicated records failed; applying them one by one", storeId, e);
            together = List.of();
        }
        // The rest first: they wait for their turn, which comes once the run is handed over.
        for (Item item : taken.subList(together.size(), taken.size())) {
            alone(item);
        }
        if (together.isEmpty()) {
            return;
        }
        List<ReplicateRequest> run = new ArrayList<>(together.size());
        for (Item item : together) {
            run.add(item.record());
        }
        List<StatusRuntimeException> outcomes = records.applyTogether(together.get(0).volume(), run);
        for (int i = 0; i < together.size(); i++) {
            tell(together.get(i), outcomes.get(i));
        }
    }

    /** The longest run from the first record that can be applied together; empty when its turn has not come. */
    private List<Item> together(List<Item> taken) {
        List<Item> run = new ArrayList<>();
        Item first = taken.get(0);
        if (!order.isTurn(first.volume(), first.record().getSequence())) {
            return run;
        }
        for (Item item : taken) {
            ReplicateRequest record = item.record();
            if (!run.isEmpty()) {
                Item last = run.get(run.size() - 1);
                if (item.volume() != last.volume()
                        || record.getSequence() != last.record().getSequence() + 1
                        || !record.getPrimaryStoreId().equals(last.record().getPrimaryStoreId())) {
                    break;
                }
            }
            if (!Volume.appendsInGroup(record.getData().size()) || !ReplicaRecords.crcMatches(record)) {
                break;
            }
            run.add(item);
        }
        return run;
    }

    /** Applies one record on a thread of its own, once its turn comes. */
    private void alone(Item item) {
        try {
            executor.execute(() -> {
                StatusRuntimeException error = null;
                try {
                    records.apply(item.volume(), item.record());
                } catch (VolumeException | InterruptedException | RuntimeException e) {
                    error = NeedleWrites.toStatus(e);
                }
                tell(item, error);
            });
        } catch (RejectedExecutionException e) {
            stopping(item);
        }
    }

    private void stopping(Item item) {
        records.abandon(item.record());
        tell(item, WireErrors.toStatus(ErrorCode.UNAVAILABLE, "store " + storeId + " is stopping"));
    }

    private void tell(Item item, StatusRuntimeException error) {
        try {
            item.answer().answer(item.record(), error);
        } catch (RuntimeException e) {
            log.warn("store {}: answering record {} of volume {} failed", storeId, item.record().getSequence(),
                    item.volume().id(), e);
        }
    }
}
