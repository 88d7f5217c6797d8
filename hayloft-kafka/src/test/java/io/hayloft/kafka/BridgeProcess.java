package io.hayloft.kafka;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A bridge in a process of its own, for tests that kill it: {@code BridgeProcess BOOTSTRAP
 * ENDPOINT ACCESS_KEY SECRET_KEY READY_FILE}. Writes READY_FILE once consuming, then runs until
 * killed.
 */
public final class BridgeProcess {
    private BridgeProcess() {}

    public static void main(String[] args) throws Exception {
        BridgeConfig config = BridgeConfig.defaults(args[0], URI.create(args[1]), args[2], args[3])
                .withRetryBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .withCommitInterval(Duration.ofMillis(200))
                .withRequestTimeout(Duration.ofSeconds(10))
                .withInFlight(32, 16L << 20)
                // A killed member's partitions move after this long, not the default 45 s.
                .withKafkaProperties(Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000"));
        S3ImageStore store = S3ImageStore.connect(config);
        KafkaBridge bridge = KafkaBridge.start(config, store, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        Files.writeString(Path.of(args[4]), "started");
        bridge.awaitStopped();
        store.close();
        System.exit(bridge.failure() == null ? 0 : 1);
    }
}
