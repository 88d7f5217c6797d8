package io.hayloft.cli;

import java.io.PrintWriter;

/**
 * Keeps a node running in the foreground until the process is told to stop (SIGINT, SIGTERM) or
 * the calling thread is interrupted, then closes it once.
 */
public final class Foreground {
    /** A node that can be closed from a shutdown hook and waited for. */
    public interface Node extends AutoCloseable {
        void awaitClosed() throws InterruptedException;
    }

    private Foreground() {}

    /**
     * Returns when the node is closed; a shutdown hook closes it when the JVM is asked to stop.
     * An interrupt closes it too; the thread's interrupt status is restored only after the node
     * has closed, as closing files on an interrupted thread would fail.
     */
    public static void run(Node node, PrintWriter err) throws Exception {
        Thread hook = new Thread(() -> closeQuietly(node, err), "hayloft-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean interrupted = false;
        try {
            node.awaitClosed();
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is shutting down: the hook is closing the node.
            }
        }
        try {
            node.close();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(Node node, PrintWriter err) {
        try {
            node.close();
        } catch (Exception e) {
            err.println("hayloft: error while stopping: " + e.getMessage());
            err.flush();
        }
    }
}
