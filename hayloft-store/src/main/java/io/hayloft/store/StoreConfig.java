package io.hayloft.store;

/**
 * Settings of a store's service, each with one default and a validated range.
 *
 * @param bytesInFlightMax bound on the bytes of needles being received at once, over all calls; a
 *     write that would pass it is refused with UNAVAILABLE, to be retried. Range 1 MiB to 1 TiB.
 *     Default 256 MiB.
 * @param forwardTimeoutMs deadline of each forward from a primary to a secondary; a secondary that
 *     has not answered by then has failed the write. Range 10 ms to 10 minutes. Default 10 s.
 * @param replicaOrderWaitMs how long a secondary holds a record that arrived before a lower
 *     sequence of its volume while the next expected sequence does not come (the wait starts over
 *     each time it comes); after that it applies the record anyway, leaving a gap that the late
 *     record can no longer fill. Range 0 to 1 minute. Default 10 s, the forward deadline: by
 *     then the missing record's write has failed on its primary anyway, so going ahead earlier
 *     only risks sealing a volume for a record that was merely slow under load.
 * @param scrubIntervalMs how often every volume is scrubbed (each record read and checked, damaged
 *     needles repaired from another replica); 0 never. Range 0 to 30 days. Default 24 hours, the
 *     first scrub one interval after the store starts.
 * @param scrubBytesPerSecond the rate a scrub reads at, so that it does not crowd out client reads.
 *     Range 1 MiB/s to 10 GiB/s. Default 32 MiB/s.
 * @param pullStallMs how long a copy or catch-up waits for the next record of its source before it
 *     gives up (UNAVAILABLE, and meta tries again): a source whose disk hangs still answers gRPC's
 *     pings, and would otherwise hold the repair until its 24-hour deadline. Time this store spends
 *     on its own (applying, or its rate limit) does not count. Range 100 ms to 1 hour. Default 60 s.
 */
public record StoreConfig(long bytesInFlightMax, long forwardTimeoutMs, long replicaOrderWaitMs,
        long scrubIntervalMs, long scrubBytesPerSecond, long pullStallMs) {

    public StoreConfig {
        requireRange("bytesInFlightMax", bytesInFlightMax, 1L << 20, 1L << 40);
        requireRange("forwardTimeoutMs", forwardTimeoutMs, 10, 600_000);
        requireRange("replicaOrderWaitMs", replicaOrderWaitMs, 0, 60_000);
        requireRange("scrubIntervalMs", scrubIntervalMs, 0, 30L * 24 * 3600 * 1000);
        requireRange("scrubBytesPerSecond", scrubBytesPerSecond, 1L << 20, 10L << 30);
        requireRange("pullStallMs", pullStallMs, 100, 3_600_000);
    }

    /** The defaults for production use. */
    public static StoreConfig defaults() {
        return new StoreConfig(256L << 20, 10_000, 10_000, 24L * 3600 * 1000, 32L << 20, 60_000);
    }

    public StoreConfig withBytesInFlightMax(long value) {
        return new StoreConfig(value, forwardTimeoutMs, replicaOrderWaitMs, scrubIntervalMs, scrubBytesPerSecond,
                pullStallMs);
    }

    public StoreConfig withForwardTimeoutMs(long value) {
        return new StoreConfig(bytesInFlightMax, value, replicaOrderWaitMs, scrubIntervalMs, scrubBytesPerSecond,
                pullStallMs);
    }

    public StoreConfig withReplicaOrderWaitMs(long value) {
        return new StoreConfig(bytesInFlightMax, forwardTimeoutMs, value, scrubIntervalMs, scrubBytesPerSecond,
                pullStallMs);
    }

    public StoreConfig withScrub(long intervalMs, long bytesPerSecond) {
        return new StoreConfig(bytesInFlightMax, forwardTimeoutMs, replicaOrderWaitMs, intervalMs, bytesPerSecond,
                pullStallMs);
    }

    public StoreConfig withPullStallMs(long value) {
        return new StoreConfig(bytesInFlightMax, forwardTimeoutMs, replicaOrderWaitMs, scrubIntervalMs,
                scrubBytesPerSecond, value);
    }

    private static void requireRange(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(key + " must be in [" + min + ", " + max + "], got " + value);
        }
    }
}
