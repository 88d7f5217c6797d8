package io.hayloft.volume.index;

import io.hayloft.volume.Invariants;
import io.hayloft.volume.format.IndexValue;
import java.util.Arrays;

/**
 * The in-memory index of one volume: needle id to the packed location of its newest record
 * ({@link IndexValue}), in about 12 bytes of heap per needle.
 *
 * <p>Implementation notes. Entries live in pages of 8,192, sorted by needle id, with no object
 * per needle and no empty hash slot. A page keeps its first id and, for each entry, the id's
 * distance from it in an {@code int} (4 bytes) next to the packed value in a {@code long} (8
 * bytes); a page whose ids span 2^32 or more keeps full {@code long} ids instead. A lookup is a
 * binary search over the pages' first ids, then within one page.
 *
 * <p>Needle ids come from leased blocks and arrive almost in ascending order, so most inserts
 * append to the last page. An id below the largest one goes to a small hash map (the overflow),
 * merged into fresh pages once it holds more than 1/32 of the entries: a merge costs O(n), so an
 * out-of-order insert costs about 32 moves on average, and the overflow adds at most about 1 byte
 * per needle. Loading a whole index file goes another way ({@link #startBulkLoad}): entries are
 * gathered in append order, sorted once with a stable radix sort when they are not already in
 * order, and the last entry of each id wins.
 *
 * <p>Entries are never removed: a delete stores a tombstone value, and compaction builds a new
 * index. Not thread-safe: the volume guards it with a read-write lock.
 */
public final class NeedleIndex {
    static final int PAGE_SHIFT = 13;
    static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final int PAGE_MASK = PAGE_SIZE - 1;
    private static final int OVERFLOW_MIN = 4096;

    private long[] pageFirst = new long[0];
    /** Each page's ids: an {@code int[]} of distances from its first id, or a {@code long[]}. */
    private Object[] keyPages = new Object[0];
    private long[][] valuePages = new long[0][];
    private int pageCount;
    private int sortedSize;
    private final LongLongMap overflow = new LongLongMap();

    private long[] bulkKeys;
    private long[] bulkValues;
    private int bulkSize;
    private boolean bulkInOrder;

    /** Number of needle ids in the index, tombstoned ones included. */
    public int size() {
        return sortedSize + overflow.size();
    }

    /** The packed value for the needle id, or {@link IndexValue#ABSENT}. */
    public long get(long needleId) {
        Invariants.check(bulkKeys == null, "lookup during a bulk load");
        long at = search(needleId);
        if (at >= 0) {
            return valuePages[(int) (at >>> 32)][(int) at];
        }
        return overflow.size() == 0 ? IndexValue.ABSENT : overflow.get(needleId);
    }

    /**
     * Sets the value for the needle id and returns the previous one, or {@link IndexValue#ABSENT}
     * (always, during a bulk load).
     */
    public long put(long needleId, long value) {
        Invariants.check(value != IndexValue.ABSENT, "index value 0 for needle %d", needleId);
        if (bulkKeys != null) {
            bulkAdd(needleId, value);
            return IndexValue.ABSENT;
        }
        if (sortedSize == 0 || needleId > lastKey()) {
            // The overflow only holds ids below the largest sorted one, so this id is new.
            append(needleId, value);
            return IndexValue.ABSENT;
        }
        long at = search(needleId);
        if (at >= 0) {
            long[] page = valuePages[(int) (at >>> 32)];
            long old = page[(int) at];
            page[(int) at] = value;
            return old;
        }
        long old = overflow.put(needleId, value);
        if (overflow.size() > Math.max(OVERFLOW_MIN, sortedSize >>> 5)) {
            mergeOverflow();
        }
        return old;
    }

    /**
     * Starts loading a whole index file into this empty index: entries are gathered as they come
     * and sorted once at {@link #finishBulkLoad()}. Lookups are not allowed in between.
     */
    public void startBulkLoad(int expectedEntries) {
        Invariants.check(size() == 0 && bulkKeys == null, "bulk load into a non-empty index");
        int capacity = Math.max(16, expectedEntries);
        bulkKeys = new long[capacity];
        bulkValues = new long[capacity];
        bulkSize = 0;
        bulkInOrder = true;
    }

    public void finishBulkLoad() {
        if (bulkKeys == null) {
            return;
        }
        long[] keys = bulkKeys;
        long[] values = bulkValues;
        int n = bulkSize;
        bulkKeys = null;
        bulkValues = null;
        if (!bulkInOrder) {
            RadixSort.sortPairs(keys, values, n);
        }
        for (int i = 0; i < n; i++) {
            // Equal ids are adjacent and in append order: the last one is the newest record.
            if (i + 1 < n && keys[i + 1] == keys[i]) {
                continue;
            }
            append(keys[i], values[i]);
        }
    }

    /** Removes every entry and ends any bulk load. */
    public void clear() {
        pageFirst = new long[0];
        keyPages = new Object[0];
        valuePages = new long[0][];
        pageCount = 0;
        sortedSize = 0;
        overflow.clear();
        bulkKeys = null;
        bulkValues = null;
    }

    /** Visits every entry; sorted entries in id order, then the overflow in id order. */
    public void forEach(EntryVisitor visitor) {
        Invariants.check(bulkKeys == null, "iteration during a bulk load");
        for (int p = 0; p < pageCount; p++) {
            int len = pageLength(p);
            long[] values = valuePages[p];
            for (int s = 0; s < len; s++) {
                visitor.visit(keyAt(p, s), values[s]);
            }
        }
        if (overflow.size() > 0) {
            for (long k : overflow.sortedKeys()) {
                visitor.visit(k, overflow.get(k));
            }
        }
    }

    /** Heap held by the index's arrays, in bytes (array headers excluded). */
    public long heapBytes() {
        long bytes = (long) pageFirst.length * 8 + (long) keyPages.length * 4 + (long) valuePages.length * 4;
        for (int p = 0; p < pageCount; p++) {
            bytes += keyPages[p] instanceof int[] ? 4L * PAGE_SIZE : 8L * PAGE_SIZE;
            bytes += 8L * PAGE_SIZE;
        }
        return bytes + overflow.heapBytes();
    }

    /** Called with each entry by {@link #forEach}. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(long needleId, long value);
    }

    private int pageLength(int p) {
        return p < pageCount - 1 ? PAGE_SIZE : sortedSize - (p << PAGE_SHIFT);
    }

    private long keyAt(int p, int slot) {
        return keyAt(keyPages[p], pageFirst[p], slot);
    }

    private static long keyAt(Object keys, long first, int slot) {
        if (keys instanceof int[] distances) {
            return first + (distances[slot] & 0xFFFFFFFFL);
        }
        return ((long[]) keys)[slot];
    }

    private long lastKey() {
        int p = pageCount - 1;
        return keyAt(p, pageLength(p) - 1);
    }

    /** Finds the id: (page << 32 | slot) when present, -1 when not. */
    private long search(long needleId) {
        if (sortedSize == 0 || needleId < pageFirst[0]) {
            return -1;
        }
        int lo = 0;
        int hi = pageCount - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (pageFirst[mid] <= needleId) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int p = lo;
        int slot = searchPage(p, needleId);
        return slot < 0 ? -1 : ((long) p << 32) | slot;
    }

    private int searchPage(int p, long needleId) {
        int low = 0;
        int high = pageLength(p) - 1;
        Object keys = keyPages[p];
        if (keys instanceof int[] distances) {
            long distance = needleId - pageFirst[p];
            if ((distance >>> 32) != 0) {
                return -1;
            }
            // Ids from one leased block are consecutive: then the distance is the slot.
            if (distance <= high && distances[(int) distance] == (int) distance) {
                return (int) distance;
            }
            while (low <= high) {
                int mid = (low + high) >>> 1;
                long d = distances[mid] & 0xFFFFFFFFL;
                if (d < distance) {
                    low = mid + 1;
                } else if (d > distance) {
                    high = mid - 1;
                } else {
                    return mid;
                }
            }
            return -1;
        }
        long[] ids = (long[]) keys;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (ids[mid] < needleId) {
                low = mid + 1;
            } else if (ids[mid] > needleId) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Appends an id above every sorted one. */
    private void append(long needleId, long value) {
        int slot = sortedSize & PAGE_MASK;
        if (slot == 0) {
            if (pageCount == pageFirst.length) {
                int capacity = Math.max(4, pageCount + (pageCount >> 1));
                pageFirst = Arrays.copyOf(pageFirst, capacity);
                keyPages = Arrays.copyOf(keyPages, capacity);
                valuePages = Arrays.copyOf(valuePages, capacity);
            }
            pageFirst[pageCount] = needleId;
            keyPages[pageCount] = new int[PAGE_SIZE];
            valuePages[pageCount] = new long[PAGE_SIZE];
            pageCount++;
        }
        int p = pageCount - 1;
        long distance = needleId - pageFirst[p];
        if (keyPages[p] instanceof int[] distances) {
            if ((distance >>> 32) == 0) {
                distances[slot] = (int) distance;
            } else {
                long[] ids = new long[PAGE_SIZE];
                for (int s = 0; s < slot; s++) {
                    ids[s] = pageFirst[p] + (distances[s] & 0xFFFFFFFFL);
                }
                ids[slot] = needleId;
                keyPages[p] = ids;
            }
        } else {
            ((long[]) keyPages[p])[slot] = needleId;
        }
        valuePages[p][slot] = value;
        sortedSize++;
    }

    private void bulkAdd(long needleId, long value) {
        if (bulkSize == bulkKeys.length) {
            int capacity = bulkSize + (bulkSize >> 1);
            bulkKeys = Arrays.copyOf(bulkKeys, capacity);
            bulkValues = Arrays.copyOf(bulkValues, capacity);
        }
        if (bulkSize > 0 && needleId <= bulkKeys[bulkSize - 1]) {
            bulkInOrder = false;
        }
        bulkKeys[bulkSize] = needleId;
        bulkValues[bulkSize] = value;
        bulkSize++;
    }

    /** Merges the overflow into new sorted pages. */
    private void mergeOverflow() {
        long[] extra = overflow.sortedKeys();
        long[] extraValues = new long[extra.length];
        for (int i = 0; i < extra.length; i++) {
            extraValues[i] = overflow.get(extra[i]);
        }
        long[] oldFirst = pageFirst;
        Object[] oldKeys = keyPages;
        long[][] oldValues = valuePages;
        int oldPages = pageCount;
        int oldSize = sortedSize;
        pageFirst = new long[0];
        keyPages = new Object[0];
        valuePages = new long[0][];
        pageCount = 0;
        sortedSize = 0;
        overflow.clear();
        int j = 0;
        for (int p = 0; p < oldPages; p++) {
            int len = p < oldPages - 1 ? PAGE_SIZE : oldSize - (p << PAGE_SHIFT);
            for (int s = 0; s < len; s++) {
                long k = keyAt(oldKeys[p], oldFirst[p], s);
                while (j < extra.length && extra[j] < k) {
                    append(extra[j], extraValues[j]);
                    j++;
                }
                Invariants.check(j >= extra.length || extra[j] != k, "needle %d both sorted and in overflow", k);
                append(k, oldValues[p][s]);
            }
        }
        while (j < extra.length) {
            append(extra[j], extraValues[j]);
            j++;
        }
    }
}
