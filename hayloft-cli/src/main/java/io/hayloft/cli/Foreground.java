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

    /** Returns when the node is closed; a shutdown hook closes it when the JVM is asked to stop. */
    public static void run(Node node, PrintWriter err) throws Exception {
        Thread hook = new Thread(() -> closeQuietly(node, err), "hayloft-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            node.awaitClosed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is shutting down: the hook is closing the node.
            }
        }
        node.close();
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
