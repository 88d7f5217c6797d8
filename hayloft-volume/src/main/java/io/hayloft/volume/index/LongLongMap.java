package io.hayloft.volume.index;

import java.util.Arrays;

/**
 * A small open-addressing map from long keys to non-zero long values, with linear probing.
 *
 * <p>Value 0 marks an empty slot, so it cannot be stored. Not thread-safe. It holds the index
 * entries that arrive out of key order until {@link NeedleIndex} merges them into its sorted
 * pages, so it only grows; entries are never removed one by one.
 */
final class LongLongMap {
    private static final long MIX = 0x9E3779B97F4A7C15L;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    LongLongMap() {
        allocate(16);
    }

    int size() {
        return size;
    }

    /** The value for the key, or 0 when absent. */
    long get(long key) {
        if (size == 0) {
            return 0;
        }
        int slot = slot(key);
        while (true) {
            long v = values[slot];
            if (v == 0 || keys[slot] == key) {
                return v;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** Puts the value (non-zero) for the key and returns the previous value, or 0. */
    long put(long key, long value) {
        if (value == 0) {
            throw new IllegalArgumentException("value 0 is reserved for empty slots");
        }
        int slot = slot(key);
        while (values[slot] != 0) {
            if (keys[slot] == key) {
                long old = values[slot];
                values[slot] = value;
                return old;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        values[slot] = value;
        if (++size > (mask + 1) / 2) {
            grow();
        }
        return 0;
    }

    /** The keys in ascending order. */
    long[] sortedKeys() {
        long[] out = new long[size];
        int n = 0;
        for (int i = 0; i < values.length; i++) {
            if (values[i] != 0) {
                out[n++] = keys[i];
            }
        }
        Arrays.sort(out);
        return out;
    }

    void clear() {
        allocate(16);
    }

    long heapBytes() {
        return 16L * keys.length;
    }

    private int slot(long key) {
        long h = key * MIX;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        values = new long[capacity];
        mask = capacity - 1;
        size = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        allocate(oldKeys.length * 2);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != 0) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }
}
