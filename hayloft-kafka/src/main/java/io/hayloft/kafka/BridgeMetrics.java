package io.hayloft.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bridge's meters (Prometheus names in docs/kafka-bridge.md): records consumed per topic,
 * objects stored, requests served by outcome, errors by kind, consumer lag per topic and the work
 * in flight.
 */
final class BridgeMetrics {
    /** Kinds of errors counted. */
    enum ErrorKind {
        /** A record the bridge cannot act on (no name, bad UTF-8, no image), skipped. */
        INVALID_RECORD("invalid_record"),
        /** A record the store refused for good (e.g. a name too long), skipped or answered with the error. */
        REFUSED("refused"),
        /** A failed attempt that will be retried (store or Kafka unavailable). */
        RETRY("retry");

        final String tag;

        ErrorKind(String tag) {
            this.tag = tag;
        }
    }

    private final MeterRegistry registry;
    private final Map<String, Counter> consumed = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lag = new ConcurrentHashMap<>();
    private final Counter stored;
    private final Counter found;
    private final Counter missing;
    private final Counter refusedRequests;
    private final Map<ErrorKind, Counter> errors = new ConcurrentHashMap<>();

    BridgeMetrics(MeterRegistry registry, InFlight inFlight) {
        this.registry = registry;
        this.stored = Counter.builder("hayloft.bridge.objects.stored")
                .description("Images stored as objects").register(registry);
        this.found = served("found");
        this.missing = served("not_found");
        this.refusedRequests = served("refused");
        for (ErrorKind k : ErrorKind.values()) {
            errors.put(k, Counter.builder("hayloft.bridge.errors").tag("kind", k.tag)
                    .description("Failed records and attempts").register(registry));
        }
        Gauge.builder("hayloft.bridge.in.flight.records", inFlight, InFlight::records)
                .description("Records taken from Kafka and not finished").register(registry);
        Gauge.builder("hayloft.bridge.in.flight.bytes", inFlight, InFlight::bytes)
                .description("Bytes of the records in flight").baseUnit("bytes").register(registry);
    }

    private Counter served(String result) {
        return Counter.builder("hayloft.bridge.requests.served").tag("result", result)
                .description("Requests answered on the image topic").register(registry);
    }

    void consumed(String topic) {
        consumed.computeIfAbsent(topic, t -> Counter.builder("hayloft.bridge.records.consumed").tag("topic", t)
                .description("Records taken from Kafka").register(registry)).increment();
    }

    void stored() {
        stored.increment();
    }

    void served(boolean wasFound) {
        (wasFound ? found : missing).increment();
    }

    void refusedRequest() {
        refusedRequests.increment();
    }

    void error(ErrorKind kind) {
        errors.get(kind).increment();
    }

    /** Sets the topic's lag: records in its assigned partitions not consumed yet. */
    void lag(String topic, long records) {
        lag.computeIfAbsent(topic, t -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("hayloft.bridge.consumer.lag", v, AtomicLong::get).tag("topic", t)
                    .description("Records in the assigned partitions not consumed yet").register(registry);
            return v;
        }).set(records);
    }

    long consumedCount(String topic) {
        Counter c = consumed.get(topic);
        return c == null ? 0 : (long) c.count();
    }

    long storedCount() {
        return (long) stored.count();
    }

    long errorCount(ErrorKind kind) {
        return (long) errors.get(kind).count();
    }
}
