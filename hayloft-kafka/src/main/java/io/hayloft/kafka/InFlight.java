package io.hayloft.kafka;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Records taken from Kafka and not finished, with the bytes of their values: the bound on the bridge's work. */
final class InFlight {
    private final int maxRecords;
    private final long maxBytes;
    private final AtomicInteger records = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicInteger peakRecords = new AtomicInteger();

    InFlight(int maxRecords, long maxBytes) {
        this.maxRecords = maxRecords;
        this.maxBytes = maxBytes;
    }

    void add(long recordBytes) {
        int n = records.incrementAndGet();
        peakRecords.accumulateAndGet(n, Math::max);
        bytes.addAndGet(recordBytes);
    }

    void remove(long recordBytes) {
        records.decrementAndGet();
        bytes.addAndGet(-recordBytes);
    }

    /**
     * True when another poll of up to {@code pollRecords} records could go past the bound on
     * records, or the bytes are at their bound: the consumer should pause.
     */
    boolean full(int pollRecords) {
        return records.get() + pollRecords > maxRecords || bytes.get() >= maxBytes;
    }

    int records() {
        return records.get();
    }

    long bytes() {
        return bytes.get();
    }

    /** The most records that were ever in flight at once. */
    int peakRecords() {
        return peakRecords.get();
    }
}
