package io.hayloft.kafka;

import java.util.concurrent.Semaphore;

/**
 * Bytes that may be held at once, shared by concurrent work, counted in KiB. A request larger
 * than the whole budget takes all of it, so it still runs, alone.
 */
final class ByteBudget {
    private final Semaphore permits;
    private final int total;

    ByteBudget(long bytes) {
        this.total = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes >> 10));
        this.permits = new Semaphore(total, true);
    }

    /** The permits {@code bytes} take: one per KiB started, at most the whole budget. */
    int permits(long bytes) {
        return (int) Math.min(total, Math.max(1, (bytes + 1023) >> 10));
    }

    void acquire(int n) throws InterruptedException {
        permits.acquire(n);
    }

    void release(int n) {
        permits.release(n);
    }
}
