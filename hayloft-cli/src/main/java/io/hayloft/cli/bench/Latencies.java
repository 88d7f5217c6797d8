package io.hayloft.cli.bench;

import java.util.Arrays;

/** The latencies of one phase's operations, and their percentiles. Each slot is written by one thread. */
final class Latencies {
    private final long[] nanos;

    Latencies(int operations) {
        nanos = new long[operations];
    }

    void record(int operation, long elapsedNanos) {
        nanos[operation] = elapsedNanos;
    }

    /** The given percentiles (0 to 100) in milliseconds, from the recorded operations. */
    double[] percentilesMs(double... percentiles) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double[] out = new double[percentiles.length];
        for (int i = 0; i < percentiles.length; i++) {
            int rank = (int) Math.ceil(percentiles[i] / 100 * sorted.length) - 1;
            out[i] = sorted[Math.max(0, Math.min(sorted.length - 1, rank))] / 1e6;
        }
        return out;
    }
}
