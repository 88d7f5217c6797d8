package io.hayloft.volume.index;

/**
 * A stable least-significant-digit radix sort of (id, value) pairs by signed id, in 11-bit digits;
 * a digit that is the same for every id costs one counting pass and no moves.
 */
final class RadixSort {
    private static final int BITS = 11;
    private static final int BUCKETS = 1 << BITS;

    private RadixSort() {}

    static void sortPairs(long[] keys, long[] values, int n) {
        if (n < 2) {
            return;
        }
        long[] srcK = keys;
        long[] srcV = values;
        long[] dstK = new long[n];
        long[] dstV = new long[n];
        int[] count = new int[BUCKETS];
        for (int shift = 0; shift < 64; shift += BITS) {
            java.util.Arrays.fill(count, 0);
            for (int i = 0; i < n; i++) {
                count[digit(srcK[i], shift)]++;
            }
            if (count[digit(srcK[0], shift)] == n) {
                continue;
            }
            int sum = 0;
            for (int b = 0; b < BUCKETS; b++) {
                int c = count[b];
                count[b] = sum;
                sum += c;
            }
            for (int i = 0; i < n; i++) {
                int at = count[digit(srcK[i], shift)]++;
                dstK[at] = srcK[i];
                dstV[at] = srcV[i];
            }
            long[] t = srcK;
            srcK = dstK;
            dstK = t;
            t = srcV;
            srcV = dstV;
            dstV = t;
        }
        if (srcK != keys) {
            System.arraycopy(srcK, 0, keys, 0, n);
            System.arraycopy(srcV, 0, values, 0, n);
        }
    }

    /** The digit of the id with its sign bit flipped, so that unsigned digit order is signed id order. */
    private static int digit(long key, int shift) {
        return (int) (((key ^ Long.MIN_VALUE) >>> shift) & (BUCKETS - 1));
    }
}
