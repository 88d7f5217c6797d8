package io.hayloft.kafka;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.BooleanSupplier;

/**
 * The bridge's HTTP endpoints: {@code /metrics} in the Prometheus text format and
 * {@code /health} (200 while the bridge runs, 503 once it stopped).
 */
public final class MetricsServer implements AutoCloseable {
    private final WebServer server;

    private MetricsServer(WebServer server) {
        this.server = server;
    }

    public static MetricsServer start(String host, int port, PrometheusMeterRegistry registry, BooleanSupplier healthy) {
        WebServer server = WebServer.builder()
                .host(host)
                .port(port)
                .routing(r -> r
                        .get("/metrics", (req, res) -> {
                            res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                            res.send(registry.scrape());
                        })
                        .get("/health", (req, res) -> {
                            boolean ok = healthy.getAsBoolean();
                            res.status(ok ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503);
                            res.send(ok ? "ok\n" : "stopped\n");
                        }))
                .build()
                .start();
        return new MetricsServer(server);
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
    }
}
