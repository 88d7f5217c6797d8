package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code /health}: the gateway process is up and serving HTTP. {@code /ready}: it can also reach
 * the meta leader, so S3 calls can succeed; checked at most once a second, within two seconds.
 */
final class Probes {
    private static final long CHECK_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long CHECK_TIMEOUT_MS = 2000;

    private final HayloftClient client;
    private volatile long checkedAt = System.nanoTime() - CHECK_EVERY_NANOS;
    private volatile String notReady = "not checked yet";

    Probes(HayloftClient client) {
        this.client = client;
    }

    void answer(boolean ready, ServerResponse res) {
        res.header("Content-Type", "text/plain; charset=utf-8");
        if (!ready) {
            res.send("ok\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String reason = readiness();
        if (reason == null) {
            res.send("ready\n".getBytes(StandardCharsets.UTF_8));
        } else {
            res.status(503).send(("not ready: " + reason + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Null when ready, else why not. */
    private String readiness() {
        long now = System.nanoTime();
        if (now - checkedAt < CHECK_EVERY_NANOS) {
            return notReady;
        }
        String result;
        CompletableFuture<Void> call = new CompletableFuture<>();
        Thread caller = Thread.ofVirtual().name("ready-check").start(() -> {
            try {
                client.meta().listBuckets();
                call.complete(null);
            } catch (RuntimeException e) {
                call.completeExceptionally(e);
            }
        });
        try {
            call.get(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            result = null;
        } catch (TimeoutException e) {
            caller.interrupt();
            result = "the meta leader did not answer within " + CHECK_TIMEOUT_MS + " ms";
        } catch (ExecutionException e) {
            result = "meta: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result = "interrupted";
        }
        notReady = result;
        checkedAt = now;
        return result;
    }
}
