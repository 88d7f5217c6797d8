package io.hayloft.volume.index;

import io.hayloft.volume.Invariants;
import io.hayloft.volume.format.IndexValue;

/**
 * The in-memory index of one volume: needle id to the packed location of its newest record
 * ({@link IndexValue}), in about 16 bytes of heap per needle.
 *
 * <p>Implementation notes. Keys and values live in pages of primitive longs, sorted by key, so
 * there is no object per needle and no empty hash slot: 16 bytes per entry plus at most one
 * partly filled page. A lookup is a binary search. Needle ids come from leased blocks and arrive
 * almost in ascending order, so most inserts append to the last page. An id below the largest one
 * goes to a small hash map (the overflow), which is merged into fresh pages once it holds more
 * than 1/32 of the entries; merging costs O(n), so an out-of-order insert costs O(32) moves on
 * average and the overflow adds at most about 1 byte per needle. Entries are never removed: a
 * delete stores a tombstone value, and compaction builds a new index.
 *
 * <p>Not thread-safe: the volume guards it with a read-write lock.
 */
public final class NeedleIndex {
    static final int PAGE_SHIFT = 13;
    static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final int PAGE_MASK = PAGE_SIZE - 1;
    private static final int OVERFLOW_MIN = 4096;

    private long[][] keyPages = new long[0][];
    private long[][] valuePages = new long[0][];
    private int sortedSize;
    private final LongLongMap overflow = new LongLongMap();
    private boolean deferMerge;

    /** Number of needle ids in the index, tombstoned ones included. */
    public int size() {
        return sortedSize + overflow.size();
    }

    /** The packed value for the needle id, or {@link IndexValue#ABSENT}. */
    public long get(long needleId) {
        int i = search(needleId);
        if (i >= 0) {
            return valuePages[i >>> PAGE_SHIFT][i & PAGE_MASK];
        }
        return overflow.get(needleId);
    }

    /** Sets the value for the needle id and returns the previous one, or {@link IndexValue#ABSENT}. */
    public long put(long needleId, long value) {
        Invariants.check(value != IndexValue.ABSENT, "index value 0 for needle %d", needleId);
        if (sortedSize == 0 || needleId > key(sortedSize - 1)) {
            // The overflow only holds ids below the largest sorted one, so this id is new.
            append(needleId, value);
            return IndexValue.ABSENT;
        }
        int i = search(needleId);
        if (i >= 0) {
            long[] page = valuePages[i >>> PAGE_SHIFT];
            long old = page[i & PAGE_MASK];
            page[i & PAGE_MASK] = value;
            return old;
        }
        long old = overflow.put(needleId, value);
        if (!deferMerge && overflow.size() > Math.max(OVERFLOW_MIN, sortedSize >>> 5)) {
            merge();
        }
        return old;
    }

    /**
     * While loading a whole index file, out-of-order entries are kept in the overflow and merged
     * once at {@link #finishBulkLoad()}, instead of many times.
     */
    public void startBulkLoad() {
        deferMerge = true;
    }

    public void finishBulkLoad() {
        deferMerge = false;
        if (overflow.size() > 0) {
            merge();
        }
    }

    /** Removes every entry. */
    public void clear() {
        keyPages = new long[0][];
        valuePages = new long[0][];
        sortedSize = 0;
        overflow.clear();
    }

    /** Visits every entry; sorted entries in key order, then the overflow in key order. */
    public void forEach(EntryVisitor visitor) {
        for (int i = 0; i < sortedSize; i++) {
            visitor.visit(key(i), valuePages[i >>> PAGE_SHIFT][i & PAGE_MASK]);
        }
        if (overflow.size() > 0) {
            for (long k : overflow.sortedKeys()) {
                visitor.visit(k, overflow.get(k));
            }
        }
    }

    /** Heap held by the index's arrays, in bytes (array headers excluded). */
    public long heapBytes() {
        return (long) keyPages.length * PAGE_SIZE * 16 + overflow.heapBytes();
    }

    /** Called with each entry by {@link #forEach}. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(long needleId, long value);
    }

    private long key(int i) {
        return keyPages[i >>> PAGE_SHIFT][i & PAGE_MASK];
    }

    private int search(long needleId) {
        int lo = 0;
        int hi = sortedSize - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long k = key(mid);
            if (k < needleId) {
                lo = mid + 1;
            } else if (k > needleId) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    private void append(long needleId, long value) {
        int page = sortedSize >>> PAGE_SHIFT;
        if (page == keyPages.length) {
            keyPages = java.util.Arrays.copyOf(keyPages, page + 1);
            valuePages = java.util.Arrays.copyOf(valuePages, page + 1);
            keyPages[page] = new long[PAGE_SIZE];
            valuePages[page] = new long[PAGE_SIZE];
        }
        keyPages[page][sortedSize & PAGE_MASK] = needleId;
        valuePages[page][sortedSize & PAGE_MASK] = value;
        sortedSize++;
    }

    /** Merges the overflow into new sorted pages. */
    private void merge() {
        long[] extra = overflow.sortedKeys();
        long[][] oldKeys = keyPages;
        long[][] oldValues = valuePages;
        int oldSize = sortedSize;
        keyPages = new long[0][];
        valuePages = new long[0][];
        sortedSize = 0;
        int i = 0;
        int j = 0;
        while (i < oldSize || j < extra.length) {
            long ki = i < oldSize ? oldKeys[i >>> PAGE_SHIFT][i & PAGE_MASK] : Long.MAX_VALUE;
            if (j < extra.length && (i >= oldSize || extra[j] < ki)) {
                append(extra[j], overflow.get(extra[j]));
                j++;
            } else {
                Invariants.check(j >= extra.length || extra[j] != ki, "needle %d both sorted and in overflow", ki);
                append(ki, oldValues[i >>> PAGE_SHIFT][i & PAGE_MASK]);
                i++;
            }
        }
        overflow.clear();
    }
}
