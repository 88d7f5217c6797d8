package io.hayloft.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;

import static org.awaitility.Awaitility.await;

/** Runs the {@code hayloft} command in this JVM and captures what it prints. */
public final class Cli {
    /** The outcome of one command. */
    public record Run(int exit, String out, String err) {}

    private Cli() {}

    public static Run run(String... args) {
        CommandLine cl = Hayloft.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** A port free now on loopback, below the ephemeral range. */
    public static int freePort() throws IOException {
        return io.hayloft.client.LoopbackPorts.free();
    }

    /**
     * {@code hayloft server} running in a thread of this JVM, as a person would run it; closing
     * it interrupts the command, which stops the server as Ctrl-C does.
     */
    public static final class Server implements AutoCloseable {
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final AtomicInteger exit = new AtomicInteger(-1);
        private final Thread thread;

        public Server(String... args) {
            this("Hayloft is running", prepend("server", args));
        }

        /** A long-running command ({@code args} start with its name), ready once it printed {@code ready}. */
        public static Server command(String ready, String... args) {
            return new Server(ready, args);
        }

        private Server(String ready, String[] all) {
            CommandLine cl = Hayloft.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            thread = Thread.ofPlatform().name("hayloft-" + all[0]).start(() -> exit.set(cl.execute(all)));
            await().atMost(Duration.ofSeconds(90)).until(() -> out.toString().contains(ready)
                    || !thread.isAlive());
            if (!thread.isAlive()) {
                throw new IllegalStateException("server exited with " + exit.get() + ": " + out + err);
            }
        }

        private static String[] prepend(String first, String[] rest) {
            String[] all = new String[rest.length + 1];
            all[0] = first;
            System.arraycopy(rest, 0, all, 1, rest.length);
            return all;
        }

        public String out() {
            return out.toString();
        }

        public String err() {
            return err.toString();
        }

        /** Stops the server; returns its exit code. */
        public int stop() throws InterruptedException {
            thread.interrupt();
            thread.join(Duration.ofSeconds(60));
            if (thread.isAlive()) {
                throw new IllegalStateException("server did not stop within 60 s");
            }
            return exit.get();
        }

        @Override
        public void close() throws InterruptedException {
            if (thread.isAlive()) {
                stop();
            }
        }
    }
}
