package io.hayloft.gateway;

import io.hayloft.client.Fids;
import io.hayloft.proto.v1.Fid;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the blobs that no name points to any more after the request that let go of them has
 * been answered. An overwrite or a DELETE is done once meta has committed the name's change; the
 * old blobs are garbage from then on, and their tombstones (a record and an fsync on every
 * replica) need not hold up the answer. Answered first, 4 KiB overwrites at 16 callers went
 * from about 2,100 to 3,000 a second on the one-process server (docs/benchmarks.md), and
 * deletes made by several workers at once share the stores' group commits.
 *
 * <p>The queue is bounded: when it is full the caller deletes its blobs itself, so garbage
 * cannot pile up faster than the stores remove it. A blob whose deletion fails, or that is still
 * queued when the gateway stops and the queue cannot be emptied in time, stays on the stores
 * as garbage, unreachable by any name, until the orphan audit removes it: the same outcome as
 * a delete that failed in the request itself before.
 */
final class Reclaimer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Reclaimer.class);
    /** Tells a worker to stop; compared by identity. */
    private static final Fid STOP = Fid.newBuilder().setVolumeId(-1).build();

    private final Consumer<Fid> delete;
    private final BlockingQueue<Fid> queue;
    private final Thread[] workers;
    private final Duration drainTimeout;
    private volatile boolean closing;

    /**
     * Starts {@code workers} virtual threads that delete queued blobs with {@code delete}, which
     * may throw to say a deletion failed; at most {@code capacity} blobs wait. {@link #close}
     * waits up to {@code drainTimeout} for the queue to empty.
     */
    Reclaimer(Consumer<Fid> delete, int capacity, int workers, Duration drainTimeout) {
        if (capacity < 1 || workers < 1) {
            throw new IllegalArgumentException("a reclaimer needs room for a blob and a worker");
        }
        this.delete = delete;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.drainTimeout = drainTimeout;
        this.workers = new Thread[workers];
        for (int i = 0; i < workers; i++) {
            this.workers[i] = Thread.ofVirtual().name("hayloft-reclaim-" + i).start(this::work);
        }
    }

    /**
     * Queues the blobs for deletion and returns at once; a blob the queue has no room for, or
     * any once the reclaimer is closing, is deleted here before this returns.
     */
    void free(List<Fid> fids) {
        for (Fid fid : fids) {
            if (closing || !queue.offer(fid)) {
                deleteNow(fid);
            }
        }
    }

    /** Blobs queued and not yet taken by a worker. */
    int queued() {
        return (int) queue.stream().filter(f -> f != STOP).count();
    }

    /** Whether a worker still runs (until {@link #close} has stopped them all). */
    boolean anyWorkerAlive() {
        for (Thread w : workers) {
            if (w.isAlive()) {
                return true;
            }
        }
        return false;
    }

    private void work() {
        while (true) {
            Fid fid;
            try {
                fid = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (fid == STOP) {
                return;
            }
            deleteNow(fid);
        }
    }

    private void deleteNow(Fid fid) {
        try {
            delete.accept(fid);
        } catch (RuntimeException e) {
            log.warn("could not free blob {}; it stays until the orphan audit: {}", Fids.format(fid), e.getMessage());
        }
    }

    /**
     * Lets the workers empty the queue, for up to the drain timeout, then stops them. Deletions
     * asked for from then on are made by their callers.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        try {
            // Behind the blobs still queued; a full queue makes room as the workers delete.
            for (int i = 0; i < workers.length; i++) {
                if (!queue.offer(STOP, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    break;
                }
            }
            for (Thread w : workers) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !w.join(Duration.ofNanos(left))) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Thread w : workers) {
            w.interrupt();
        }
        int left = queued();
        if (left > 0) {
            log.warn("{} blob(s) no name points to were not deleted before the gateway stopped; "
                    + "they stay until the orphan audit", left);
        }
    }
}
