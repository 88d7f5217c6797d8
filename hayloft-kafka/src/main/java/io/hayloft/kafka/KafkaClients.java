package io.hayloft.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The settings of the bridge's consumer and producer. The operator's {@code kafkaProperties}
 * apply to both, or to one with the prefix {@code consumer.} or {@code producer.}; the settings
 * that the bridge's guarantees rest on (manual commits, acks from all in-sync replicas,
 * idempotent sends, raw bytes) cannot be changed, and trying is an error at start.
 */
final class KafkaClients {
    private static final Set<String> FIXED = Set.of(
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ConsumerConfig.GROUP_ID_CONFIG,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            ProducerConfig.ACKS_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);

    private static final int DEFAULT_MAX_REQUEST_BYTES = 64 << 20;

    private KafkaClients() {}

    /** At most this many records per poll: a quarter of the in-flight bound, so polls stay small. */
    static int maxPollRecords(BridgeConfig config) {
        return Math.max(1, Math.min(500, config.maxInFlightRecords() / 4));
    }

    static Map<String, Object> consumer(BridgeConfig config, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-consumer");
        p.putAll(overrides(config, "consumer."));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords(config));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return p;
    }

    /**
     * The largest record the producer sends ({@code max.request.size}): 64 MiB unless set, so that
     * the broker's own limit decides (a refusal is answered as EntityTooLarge).
     */
    static long maxRequestBytes(BridgeConfig config) {
        Object v = overrides(config, "producer.").get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (v == null) {
            return DEFAULT_MAX_REQUEST_BYTES;
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("max.request.size is not a number: " + v);
        }
    }

    static Map<String, Object> producer(BridgeConfig config, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, DEFAULT_MAX_REQUEST_BYTES);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-producer");
        p.putAll(overrides(config, "producer."));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return p;
    }

    /** Refuses operator settings that would change what the bridge's guarantees rest on. */
    static void check(Map<String, String> kafkaProperties) {
        for (String key : kafkaProperties.keySet()) {
            String bare = key.startsWith("consumer.") ? key.substring(9)
                    : key.startsWith("producer.") ? key.substring(9) : key;
            if (FIXED.contains(bare)) {
                throw new IllegalArgumentException("the Kafka setting " + key + " is the bridge's own and cannot be set");
            }
        }
    }

    private static Map<String, Object> overrides(BridgeConfig config, String prefix) {
        String other = prefix.equals("consumer.") ? "producer." : "consumer.";
        Map<String, Object> p = new HashMap<>();
        config.kafkaProperties().forEach((k, v) -> {
            if (!k.startsWith(prefix) && !k.startsWith(other)) {
                p.put(k, v);
            }
        });
        config.kafkaProperties().forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                p.put(k.substring(prefix.length()), v);
            }
        });
        return p;
    }
}
