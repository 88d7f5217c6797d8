package io.hayloft.volume;

import io.hayloft.volume.format.IndexFileFormat;
import io.hayloft.volume.format.IndexValue;
import io.hayloft.volume.format.NeedleFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * Appends small records in batches: one write and one fsync for every append that arrived while
 * the previous batch was being made durable.
 *
 * <p>Implementation notes. Callers encode their record (everything but the sequence number) and
 * queue it. Whoever takes the commit lock becomes the leader: it lets the threads ready to run
 * queue theirs first ({@link #letOthersQueue}), then under the volume's write lock it drains
 * the queue, gives each record its sequence number and offset, writes them with one
 * positional write and their index entries with another, then fsyncs once and completes every
 * request of the batch. The others park meanwhile. A leader leads for one batch and then wakes the
 * head of the queue, which leads the next, so no caller waits behind an endless stream of other
 * callers' work, and no queued request is ever left without a leader: anyone who queued and failed
 * to take the lock did so while a leader held it, and that leader looks at the queue after
 * releasing the lock.
 *
 * <p>A replicated record too large for the queue is written directly, but must not overtake the
 * lower sequences queued ahead of it: {@link #afterQueued} takes the commit lock, writes the
 * batches queued before it without fsyncing them, then the record; one fsync after it serves
 * them all ({@link #finish}). Their callers, finding nothing to lead, park until then.
 *
 * <p>A leader waits briefly for the company that recent batches promise ({@link #awaitCompany}).
 *
 * <p>Why a queue in memory instead of each caller writing its own record: while an fsync is
 * writing a page back, a write into that same page (the tail of the file) waits for it, so callers
 * writing directly would queue behind every fsync one at a time and batches would stay tiny.
 */
final class GroupCommit {
    /** Largest batch written at once. */
    private static final int BATCH_BYTES_MAX = 4 << 20;

    /** Batches whose sizes set how many appends a leader waits for ({@link #awaitCompany}). */
    private static final int RECENT_BATCHES = 16;
    /** The longest a leader waits for company. */
    private static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long LINGER_STEP_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    private final Volume volume;
    private final ConcurrentLinkedQueue<Request> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock commitLock = new ReentrantLock();
    /** Sizes of the last batches run, in a ring; under the commit lock. */
    private final int[] recent = new int[RECENT_BATCHES];
    private int recentAt;
    private volatile int companyWanted = 1;

    GroupCommit(Volume volume) {
        this.volume = volume;
    }

    /** One queued append. */
    static final class Request {
        final ByteBuffer record;
        final long needleId;
        final boolean tombstone;
        final int dataLength;
        final long givenSequence;
        /** Told the record's sequence once it is written, before it is durable; may be null. */
        final LongConsumer onWritten;
        final Thread waiter = Thread.currentThread();
        /** Taken off the queue into a batch; written under the commit and write locks. */
        boolean drained;
        volatile boolean done;
        long sequence;
        long offset;
        VolumeException error;

        Request(ByteBuffer record, long needleId, boolean tombstone, int dataLength, long givenSequence,
                LongConsumer onWritten) {
            this.onWritten = onWritten;
            this.record = record;
            this.needleId = needleId;
            this.tombstone = tombstone;
            this.dataLength = dataLength;
            this.givenSequence = givenSequence;
        }

        void complete(long seq) {
            sequence = seq;
            done = true;
            LockSupport.unpark(waiter);
        }

        void fail(VolumeException e) {
            error = e;
            done = true;
            LockSupport.unpark(waiter);
        }
    }

    /**
     * Queues the record, runs {@code onQueued} (the record's place in the write order is fixed
     * from then on), and returns its sequence number once it is durable.
     */
    long append(Request request, Runnable onQueued) throws VolumeException {
        queue.add(request);
        onQueued.run();
        awaitDone(request, true);
        if (request.error != null) {
            throw request.error;
        }
        return request.sequence;
    }

    /**
     * Queues the records one after the other, runs {@code onQueued} (their places in the write
     * order are fixed from then on), and returns once each is durable or failed: each request
     * then holds its sequence or its error. The caller usually leads the batch they make up, at
     * once: they came together, and it waits for no company. The requests must have been made
     * by the calling thread, which their leader wakes.
     */
    void appendAll(List<Request> requests, Runnable onQueued) {
        queue.addAll(requests);
        onQueued.run();
        RuntimeException failed = null;
        for (Request r : requests) {
            try {
                awaitDone(r, false);
            } catch (RuntimeException e) {
                // A batch this thread led failed unexpectedly (its requests have their error):
                // the ones still queued are written by the next leader, so keep waiting for them.
                failed = failed == null ? e : failed;
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Leads batches, or parks while another leads, until the request is durable or failed; a
     * leader waits for company ({@link #awaitCompany}) when {@code company} says some may come.
     */
    private void awaitDone(Request request, boolean company) {
        boolean interrupted = false;
        try {
            while (!request.done) {
                boolean led = false;
                if (commitLock.tryLock()) {
                    try {
                        if (!queue.isEmpty()) {
                            if (company) {
                                letOthersQueue();
                                awaitCompany();
                            }
                            runBatch();
                            led = true;
                        }
                    } finally {
                        commitLock.unlock();
                        Request head = queue.peek();
                        if (head != null) {
                            LockSupport.unpark(head.waiter);
                        }
                    }
                }
                if (!led && !request.done) {
                    // A leader holds the lock, or this request was written ahead of a direct write
                    // (afterQueued), whose thread completes it: either wakes this one.
                    // park() returns at once while the interrupt flag is set: keep it aside.
                    interrupted |= Thread.interrupted();
                    LockSupport.park(this);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Before a leader drains the queue, a virtual thread lets the others that are ready to run go
     * first: appends often come in bursts (the callers of one batch of the primary, woken
     * together, each forwarding its record to the same secondaries), and those that queue now
     * share this batch's fsync instead of waiting for the next one. It costs no timer and no
     * wait when nothing else is ready. (With 16 writers to the one-process server: 9% fewer
     * fsyncs per PUT.) The leader holds the commit lock meanwhile and runs again once the ready
     * threads block or yield, so a thread that spins without ever blocking would keep it
     * waiting. A platform thread does not yield: its yield is a system call whose effect is up
     * to the OS scheduler.
     */
    private static void letOthersQueue() {
        if (Thread.currentThread().isVirtual()) {
            Thread.yield();
        }
    }

    /** A write done outside the queue. */
    @FunctionalInterface
    interface DirectWrite<T> {
        T run() throws VolumeException;
    }

    /** Records written to the files, not yet durable, whose requests still wait. */
    record Batch(List<Request> requests, Generation generation, long end) {}

    /**
     * Runs {@code write} after every record queued before this call is written and before any
     * batch queued after it: a replicated record written outside the queue must not overtake
     * lower sequence numbers queued ahead of it. The records it writes first are added to
     * {@code ahead}, not made durable: the caller passes them to {@link #finish} after its own
     * record is durable, whatever happened, so that one fsync serves them all.
     */
    <T> T afterQueued(DirectWrite<T> write, List<Batch> ahead) throws VolumeException {
        commitLock.lock();
        try {
            Request last = null;
            for (Request r : queue) {
                last = r;
            }
            // Under the commit lock no batch is half written: a request drained is written or failed.
            while (last != null && !last.drained && !queue.isEmpty()) {
                Batch b = writeBatch();
                if (b != null) {
                    written(b);
                    ahead.add(b);
                }
            }
            return write.run();
        } finally {
            commitLock.unlock();
            Request head = queue.peek();
            if (head != null) {
                LockSupport.unpark(head.waiter);
            }
        }
    }

    /** Makes written batches durable and completes their requests; fails them when that fails. */
    void finish(List<Batch> batches) {
        for (Batch b : batches) {
            finish(b);
        }
    }

    /**
     * Before a leader drains the queue, it waits a little for company it has reason to expect:
     * until the queue holds seven eighths of the largest of the last {@value #RECENT_BATCHES}
     * batches, or {@link #LINGER_NANOS} have passed. Callers that each wait for their append
     * before sending the next (an S3 client's threads) drift into small groups that keep missing
     * one another's fsync; held back briefly, they share it. A writer alone (recent batches of
     * one) never waits. Measured with 16 writers to the one-process server: 38% fewer fsyncs of
     * the volume files and about 5% more PUTs; a linger of 1.5 ms lost a fifth of them
     * (docs/benchmarks.md). The waiting leader holds the commit lock: the others queue meanwhile.
     */
    private void awaitCompany() {
        int wanted = companyWanted;
        if (wanted <= 1) {
            return;
        }
        long deadline = System.nanoTime() + LINGER_NANOS;
        while (queue.size() < wanted && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(LINGER_STEP_NANOS);
        }
    }

    /** Notes a batch's size for {@link #awaitCompany}; under the commit lock. */
    private void noteBatch(int size) {
        recent[recentAt] = size;
        recentAt = (recentAt + 1) % RECENT_BATCHES;
        int largest = 1;
        for (int n : recent) {
            largest = Math.max(largest, n);
        }
        companyWanted = Math.max(1, largest * 7 / 8);
    }

    /** Runs one batch; whatever goes wrong, no request of it is left waiting. */
    private void runBatch() {
        Batch b = writeBatch();
        if (b != null) {
            noteBatch(b.requests().size());
            written(b);
            finish(b);
        }
    }

    /**
     * Tells the requests of a written batch that asked for their sequence before it is durable.
     * A callback that throws only loses its own news: its caller sees that it was never told.
     */
    private static void written(Batch b) {
        for (Request r : b.requests()) {
            Volume.tellWritten(r.onWritten, r.sequence);
        }
    }

    private void finish(Batch b) {
        try {
            volume.awaitDurable(b.generation(), b.end());
        } catch (VolumeException e) {
            failAll(b.requests(), e);
            return;
        } catch (RuntimeException | Error e) {
            failAll(b.requests(), new VolumeException(VolumeErrorCode.IO_ERROR, "append failed: " + e, e));
            throw e;
        }
        for (Request r : b.requests()) {
            r.complete(r.sequence);
        }
    }

    /**
     * Drains a batch from the queue and writes it under the volume's write lock; returns it, or
     * null when none of it was written (its requests have failed). Whatever goes wrong, no request
     * drained is left without an outcome or a batch.
     */
    private Batch writeBatch() {
        List<Request> drained = new ArrayList<>();
        try {
            return writeBatch(drained);
        } catch (RuntimeException | Error e) {
            failAll(drained, new VolumeException(VolumeErrorCode.IO_ERROR, "append failed: " + e, e));
            throw e;
        }
    }

    private Batch writeBatch(List<Request> drained) {
        volume.writeLock.lock();
        try {
            drain(drained);
            try {
                volume.checkWritable();
            } catch (VolumeException e) {
                // Replicated records drained here had their place in the write order: the ones
                // after them went on, and must not be written past them.
                lowestReplicatedFailed(drained);
                throw e;
            }
            Generation g = volume.gen;
            List<Request> batch = assign(g, drained);
            if (batch.isEmpty()) {
                return null;
            }
            try {
                return new Batch(batch, g, write(g, batch));
            } catch (VolumeException e) {
                lowestReplicatedFailed(batch);
                throw e;
            }
        } catch (VolumeException e) {
            failAll(drained, e);
            return null;
        } catch (RuntimeException e) {
            // Not expected; the caller fails the requests, and the volume must not take the
            // replicated records after them either.
            lowestReplicatedFailed(drained);
            throw e;
        } finally {
            volume.writeLock.unlock();
        }
    }

    /**
     * Notes the lowest replicated sequence among requests that had their place and will not be
     * written, so that the volume refuses the replicated records above it until it comes (see
     * {@link Volume#replicaGapFailed}). Under the write lock.
     */
    private void lowestReplicatedFailed(List<Request> requests) {
        long lowest = Long.MAX_VALUE;
        for (Request r : requests) {
            if (r.givenSequence != 0 && !r.done) {
                lowest = Math.min(lowest, r.givenSequence);
            }
        }
        if (lowest != Long.MAX_VALUE) {
            volume.replicaGapFailed(lowest);
        }
    }

    private void drain(List<Request> batch) {
        long bytes = 0;
        Request r;
        while ((r = queue.peek()) != null && (batch.isEmpty() || bytes + r.record.remaining() <= BATCH_BYTES_MAX)) {
            queue.poll();
            r.drained = true;
            batch.add(r);
            bytes += r.record.remaining();
        }
    }

    /** Gives sequence numbers and offsets; fails the requests that do not fit. Returns those that do. */
    private List<Request> assign(Generation g, List<Request> batch) {
        long sequence = volume.lastSequence;
        long pos = g.writePos;
        long max = volume.config().volumeSizeBytesMax();
        long salt = g.superblock.salt();
        List<Request> accepted = new ArrayList<>(batch.size());
        for (Request r : batch) {
            long seq = r.givenSequence == 0 ? sequence + 1 : r.givenSequence;
            if (seq <= sequence) {
                r.fail(new VolumeException(VolumeErrorCode.SEQUENCE_REGRESSION,
                        "sequence " + seq + " is not above " + sequence));
                continue;
            }
            if (r.givenSequence != 0) {
                try {
                    volume.checkNoReplicaGap(seq, sequence);
                } catch (VolumeException e) {
                    r.fail(e);
                    continue;
                }
            }
            long length = r.record.remaining();
            if (pos + length > max) {
                if (r.givenSequence != 0) {
                    volume.replicaGapFailed(seq);
                }
                r.fail(new VolumeException(VolumeErrorCode.VOLUME_FULL, "volume " + volume.id() + " has "
                        + (max - pos) + " bytes left, the needle needs " + length));
                continue;
            }
            NeedleFormat.patchSequence(r.record, salt, seq);
            r.sequence = seq;
            r.offset = pos;
            sequence = seq;
            pos += length;
            accepted.add(r);
        }
        return accepted;
    }

    /** Writes the batch and its index entries; returns the end of the last record. */
    private long write(Generation g, List<Request> batch) throws VolumeException {
        long start = g.writePos;
        int bytes = 0;
        for (Request r : batch) {
            bytes += r.record.remaining();
        }
        ByteBuffer records = ByteBuffer.allocate(bytes);
        ByteBuffer entries = ByteBuffer.allocate(batch.size() * IndexFileFormat.ENTRY_BYTES);
        long[] values = new long[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            Request r = batch.get(i);
            records.put(r.record.duplicate());
            values[i] = r.tombstone ? IndexValue.tombstone(r.offset) : IndexValue.live(r.offset, r.dataLength);
            IndexFileFormat.putEntry(entries, r.needleId, values[i]);
        }
        volume.preallocate(g, start + bytes);
        try {
            g.dat.writeFully(records.flip(), start);
            g.idx.writeFully(entries.flip(), g.idxWritePos);
            volume.failpoints().hit("append.written");
        } catch (IOException | RuntimeException e) {
            volume.cutBack(g, start);
            if (e instanceof IOException io) {
                throw VolumeException.fromIo("append to volume " + volume.id(), io);
            }
            throw (RuntimeException) e;
        }
        g.writePos = start + bytes;
        g.idxWritePos += entries.capacity();
        g.idxWrittenPos = g.idxWritePos;
        volume.lastSequence = batch.get(batch.size() - 1).sequence;
        for (int i = 0; i < batch.size(); i++) {
            Request r = batch.get(i);
            g.pending.add(new Generation.Pending(r.needleId, values[i], r.offset + r.record.remaining()));
        }
        g.writtenPos = g.writePos;
        return g.writePos;
    }

    private static void failAll(List<Request> batch, VolumeException e) {
        for (Request r : batch) {
            if (!r.done) {
                r.fail(e);
            }
        }
    }
}
