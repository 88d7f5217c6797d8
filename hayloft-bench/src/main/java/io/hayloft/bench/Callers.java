package io.hayloft.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Closed-loop load: C callers on virtual threads, each repeating an operation and waiting for it. */
public final class Callers {
    private Callers() {}

    /** One call of the load; a failure stops the run. */
    @FunctionalInterface
    public interface Op {
        void run() throws Exception;
    }

    /** Runs {@code op} from {@code callers} virtual threads, again and again, for {@code seconds}. */
    public static void run(int callers, int seconds, Op op) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                all.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        op.run();
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        }
    }
}
