package io.hayloft.kafka;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The records of one partition that the bridge took and has not finished, and from them the
 * offset it may commit: the lowest unfinished one, or the one after the last taken when all are
 * finished. Records are finished out of order (they run concurrently), so an offset is committed
 * only once every record below it is done; after a crash, what was not committed comes again.
 *
 * <p>Implementation notes. Records with the same order key (an image's name) must take effect in
 * offset order, or an older image could overwrite a newer one: {@link #take} hands each record
 * the completion of the previous record with its key, which its work waits for. When the
 * partition is given up (revoked, lost, or the bridge stops), {@link #abandon} tells the work
 * still running to stop before its next attempt, wakes records waiting for a predecessor, and
 * {@link #awaitIdle} waits until no work of the partition runs any more, so that the next owner
 * of the partition never races with this one. Calls come from the poll thread ({@code take},
 * {@code committable}) and from the workers ({@code finish}, {@code exited}); one monitor guards
 * it all, held only briefly.
 */
final class PartitionProgress {
    /** One record taken: its offset, and its completion, which records after it with its key wait for. */
    static final class Ticket {
        final long offset;
        final String orderKey;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        /** The previous record with the same key, still unfinished when this one was taken; or null. */
        final CompletableFuture<Void> before;
        boolean finished;

        private Ticket(long offset, String orderKey, CompletableFuture<Void> before) {
            this.offset = offset;
            this.orderKey = orderKey;
            this.before = before;
        }
    }

    private final ArrayDeque<Ticket> pending = new ArrayDeque<>();
    private final Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
    /** The offset after the last record taken; -1 before the first. */
    private long next = -1;
    /** The last offset committed (or found committed); -1 when none was. */
    private long committed = -1;
    /** Work taken and not exited yet (finished or not). */
    private int running;
    private boolean abandoned;

    /** Takes the record at {@code offset}; offsets must come in increasing order. */
    synchronized Ticket take(long offset, String orderKey) {
        if (offset < next) {
            throw new IllegalStateException("offset " + offset + " taken after " + (next - 1));
        }
        CompletableFuture<Void> before = null;
        Ticket t;
        if (orderKey == null) {
            t = new Ticket(offset, null, null);
        } else {
            CompletableFuture<Void> previous = lastOfKey.get(orderKey);
            before = previous == null || previous.isDone() ? null : previous;
            t = new Ticket(offset, orderKey, before);
            lastOfKey.put(orderKey, t.done);
        }
        pending.addLast(t);
        next = offset + 1;
        running++;
        return t;
    }

    /** The record's work is done (stored, answered, or skipped as invalid): its offset may be committed. */
    synchronized void finish(Ticket t) {
        t.finished = true;
        if (t.orderKey != null) {
            lastOfKey.remove(t.orderKey, t.done);
        }
        t.done.complete(null);
        notifyAll();
    }

    /** The record's work has ended, finished or not. */
    synchronized void exited() {
        running--;
        notifyAll();
    }

    /**
     * The offset to commit (the next record to read after a restart), when it moved past the last
     * one committed; otherwise -1.
     */
    synchronized long committable() {
        while (!pending.isEmpty() && pending.peekFirst().finished) {
            pending.removeFirst();
        }
        long c = pending.isEmpty() ? next : pending.peekFirst().offset;
        return c > committed ? c : -1;
    }

    synchronized void committed(long offset) {
        committed = Math.max(committed, offset);
    }

    /** Records taken and not finished. */
    synchronized int unfinished() {
        int n = 0;
        for (Ticket t : pending) {
            if (!t.finished) {
                n++;
            }
        }
        return n;
    }

    /** Tells the partition's work to stop; records waiting for a predecessor are woken. */
    void abandon() {
        CompletableFuture<?>[] waiting;
        synchronized (this) {
            abandoned = true;
            waiting = pending.stream().map(t -> t.done).toArray(CompletableFuture[]::new);
            notifyAll();
        }
        for (CompletableFuture<?> f : waiting) {
            f.complete(null);
        }
    }

    synchronized boolean abandoned() {
        return abandoned;
    }

    /** Waits up to {@code timeoutMs} for all taken records to finish; true when they did. */
    synchronized boolean awaitFinished(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (unfinished() > 0 && !abandoned) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return unfinished() == 0;
    }

    /** Waits up to {@code timeoutMs} until no work of the partition runs; true when none does. */
    synchronized boolean awaitIdle(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (running > 0) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Sleeps for a retry's back-off, or less when the partition is abandoned meanwhile. */
    synchronized void pause(long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (!abandoned) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return;
            }
            wait(left);
        }
    }
}
