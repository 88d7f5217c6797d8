package io.hayloft.volume;

import io.hayloft.volume.format.IndexValue;
import io.hayloft.volume.format.NeedleFormat;
import io.hayloft.volume.format.Superblock;
import io.hayloft.volume.index.NeedleIndex;
import io.hayloft.volume.io.VolumeFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.StampedLock;

/**
 * One generation of a volume's files: the open {@code .dat} and {@code .idx}, the in-memory
 * index that describes them, and the write and durability positions. Compaction replaces the
 * whole generation at once.
 *
 * <p>Implementation notes. {@code writePos} and {@code idxWritePos} belong to the volume's single
 * writer (under its write lock). Each written record is queued as a {@link Pending} entry; the
 * group commit publishes entries into the index only after the fsync that covers them, so a
 * reader never sees a needle that a crash could take away. {@code durablePos} is the end of the
 * published, durable prefix. The index and the counters are guarded by {@code indexLock}.
 */
final class Generation {
    final VolumeFile dat;
    final VolumeFile idx;
    final NeedleIndex index;
    private final StampedLock indexStamp = new StampedLock();
    /** Read and write views of the lock that guards the index and the counters. */
    final IndexLock indexLock = new IndexLock(indexStamp.asReadLock(), indexStamp.asWriteLock());
    final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();

    volatile Superblock superblock;
    /** The salt as it enters the record CRC; fixed for the life of the volume. */
    final byte[] saltBytes;
    /** End of the last written record; writer only. */
    long writePos;
    /** End of the last written index entry; writer only. */
    long idxWritePos;
    /**
     * End of the zeros written ahead of the records ({@link Volume#preallocate}): while it is
     * above {@code writePos}, the {@code .dat} file ends here; at or below it, there are none and
     * the file ends at {@code writePos} (a record written past the zeros ends the file). Writer
     * only.
     */
    long allocatedEnd;
    /** End of the last fully written record, for the group commit. */
    volatile long writtenPos;
    /** Records before this offset are durable and in the index. */
    volatile long durablePos;
    /** Index entries before this offset in the {@code .idx} file are written. */
    volatile long idxWrittenPos;
    /** Set when compaction has replaced this generation; its files are then closed. */
    volatile boolean retired;
    /** One for the volume while this generation is current, one per open stream. */
    private final AtomicInteger refs = new AtomicInteger(1);

    // Guarded by indexLock.
    long liveBytes;
    long liveNeedles;
    long deletedNeedles;

    Generation(Superblock superblock, VolumeFile dat, VolumeFile idx, NeedleIndex index, long writePos, long idxWritePos) {
        this.superblock = superblock;
        this.saltBytes = superblock.saltBytes();
        this.dat = dat;
        this.idx = idx;
        this.index = index;
        this.writePos = writePos;
        this.idxWritePos = idxWritePos;
        this.allocatedEnd = writePos;
        this.writtenPos = writePos;
        this.durablePos = writePos;
        this.idxWrittenPos = idxWritePos;
    }

    /** The read and write locks of the index, named as in a read-write lock. */
    record IndexLock(Lock readLock, Lock writeLock) {}

    /** A record written but not yet known to be durable. */
    record Pending(long needleId, long value, long end) {}

    /**
     * Looks a needle up: first optimistically, with no lock (the common case: nothing is being
     * published at that moment), then under the read lock when a writer got in the way.
     */
    long lookup(long needleId) {
        long stamp = indexStamp.tryOptimisticRead();
        if (stamp != 0) {
            try {
                long value = index.get(needleId);
                if (indexStamp.validate(stamp)) {
                    return value;
                }
            } catch (RuntimeException e) {
                // A torn view of arrays being rebuilt by a writer; validate() would have failed.
            }
        }
        long readStamp = indexStamp.readLock();
        try {
            return index.get(needleId);
        } finally {
            indexStamp.unlockRead(readStamp);
        }
    }

    /** Applies one entry to the index and the counters; caller holds the index write lock. */
    /**
     * The index entries, {id, value}, whose record starts in one of the byte ranges [from, to): the
     * needles whose newest record (data or tombstone) a scan found damaged there.
     */
    List<long[]> entriesIn(List<long[]> ranges) {
        List<long[]> found = new ArrayList<>();
        if (ranges.isEmpty()) {
            return found;
        }
        indexLock.readLock().lock();
        try {
            index.forEach((id, value) -> {
                long offset = IndexValue.offset(value);
                for (long[] range : ranges) {
                    if (offset >= range[0] && offset < range[1]) {
                        found.add(new long[] {id, value});
                        return;
                    }
                }
            });
        } finally {
            indexLock.readLock().unlock();
        }
        return found;
    }

    void apply(long needleId, long value) {
        long old = index.put(needleId, value);
        if (old != IndexValue.ABSENT) {
            if (IndexValue.isTombstone(old)) {
                deletedNeedles--;
            } else {
                liveNeedles--;
                liveBytes -= IndexValue.recordBytes(old);
            }
        }
        if (IndexValue.isTombstone(value)) {
            deletedNeedles++;
        } else {
            liveNeedles++;
            liveBytes += IndexValue.recordBytes(value);
        }
    }

    /** Recomputes the counters from the whole index. */
    void countAll() {
        indexLock.writeLock().lock();
        try {
            liveBytes = 0;
            liveNeedles = 0;
            deletedNeedles = 0;
            index.forEach((id, value) -> {
                if (IndexValue.isTombstone(value)) {
                    deletedNeedles++;
                } else {
                    liveNeedles++;
                    liveBytes += IndexValue.recordBytes(value);
                }
            });
        } finally {
            indexLock.writeLock().unlock();
        }
    }

    /** Publishes every pending entry that ends at or before {@code target}, then moves durablePos. */
    void publish(long target) {
        indexLock.writeLock().lock();
        try {
            Pending p;
            while ((p = pending.peek()) != null && p.end() <= target) {
                pending.poll();
                apply(p.needleId(), p.value());
            }
            if (target > durablePos) {
                durablePos = target;
            }
        } finally {
            indexLock.writeLock().unlock();
        }
    }

    /** Bytes held by garbage: superseded and deleted needles, damaged ranges; retained tombstones excluded. */
    long garbageBytes() {
        indexLock.readLock().lock();
        try {
            long used = durablePos - NeedleFormat.SUPERBLOCK_BYTES;
            return Math.max(0, used - liveBytes - deletedNeedles * NeedleFormat.recordBytes(0));
        } finally {
            indexLock.readLock().unlock();
        }
    }

    /** Takes a reference for a reader that outlives one call; false when the files are closed. */
    boolean retain() {
        while (true) {
            int n = refs.get();
            if (n <= 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one closes the files. */
    void release() {
        if (refs.decrementAndGet() == 0) {
            try {
                closeFiles();
            } catch (IOException e) {
                // Nothing was written through this generation since it was made durable.
            }
        }
    }

    /** Replaced by a compaction: the files close when the last open stream is done. */
    void retire() {
        retired = true;
        release();
    }

    void closeFiles() throws IOException {
        IOException first = null;
        for (VolumeFile f : new VolumeFile[] {dat, idx}) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
