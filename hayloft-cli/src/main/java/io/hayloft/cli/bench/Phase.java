package io.hayloft.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One phase of a benchmark: {@code operations} calls of one operation from {@code concurrency}
 * threads in a closed loop (each thread starts its next call when the last one returns), timed
 * one by one.
 */
final class Phase {
    /** One call; {@code i} is the operation's number, 0 to operations - 1. */
    interface Operation {
        void run(int i) throws Exception;
    }

    /** The outcome of a phase. */
    record Result(String name, int operations, int failures, long elapsedNanos, long bytesPerOperation,
            Latencies latencies, Exception firstFailure) {
        String summary() {
            double seconds = elapsedNanos / 1e9;
            int ok = operations - failures;
            double[] p = latencies.percentilesMs(50, 99, 99.9);
            return String.format(Locale.ROOT,
                    "%-5s %d ops in %.2f s: %.0f ops/s, %.2f MB/s; latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms%s",
                    name, operations, seconds, ok / seconds, ok * (double) bytesPerOperation / 1e6 / seconds,
                    p[0], p[1], p[2], failures == 0 ? "" : "; " + failures + " failed");
        }
    }

    private Phase() {}

    static Result run(String name, int operations, int concurrency, long bytesPerOperation, Operation op)
            throws InterruptedException {
        Latencies latencies = new Latencies(operations);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        AtomicReference<Exception> first = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < concurrency; t++) {
            threads.add(Thread.ofPlatform().name("bench-" + name + "-" + t).start(() -> {
                for (int i = next.getAndIncrement(); i < operations; i = next.getAndIncrement()) {
                    long began = System.nanoTime();
                    try {
                        op.run(i);
                    } catch (Exception e) {
                        failures.incrementAndGet();
                        first.compareAndSet(null, e);
                    }
                    latencies.record(i, System.nanoTime() - began);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Result(name, operations, failures.get(), System.nanoTime() - start, bytesPerOperation, latencies,
                first.get());
    }
}
