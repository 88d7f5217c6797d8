package io.hayloft.store;

import java.util.concurrent.TimeUnit;

/** Holds a stream of work to a number of bytes per second, measured from its start, by sleeping. */
final class RateLimit {
    private final long bytesPerSecond;
    private final long start = System.nanoTime();
    private long taken;

    /** @param bytesPerSecond the rate; 0 or less for none */
    RateLimit(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    /** Counts {@code bytes} done, and sleeps while the work is ahead of the rate. */
    void took(long bytes) throws InterruptedException {
        if (bytesPerSecond <= 0) {
            return;
        }
        taken += bytes;
        long ahead = (long) (taken * 1e9 / bytesPerSecond) - (System.nanoTime() - start);
        if (ahead > 0) {
            TimeUnit.NANOSECONDS.sleep(ahead);
        }
    }
}
