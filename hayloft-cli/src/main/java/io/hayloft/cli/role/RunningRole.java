package io.hayloft.cli.role;

import io.hayloft.cli.Foreground;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** A role's running parts, closed once, in the order given. */
final class RunningRole implements Foreground.Node {
    private final List<AutoCloseable> parts;
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean closing;

    RunningRole(List<AutoCloseable> parts) {
        this.parts = List.copyOf(parts);
    }

    @Override
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() throws Exception {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        Exception first = null;
        for (AutoCloseable part : parts) {
            try {
                part.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        closed.countDown();
        if (first != null) {
            throw first;
        }
    }
}
