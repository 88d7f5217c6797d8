package io.hayloft.kafka;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The Kafka bridge's settings: where Kafka and the S3 endpoint are, the three topics, the bucket
 * the images live in, and the bounds on work in flight.
 *
 * @param bootstrapServers the Kafka cluster, {@code host:port,...}
 * @param groupId the consumer group; bridges with the same group share the partitions
 * @param initialTopic images to store: key = name (String), value = the image's bytes
 * @param requestTopic names to fetch: value = name (String), no key
 * @param imageTopic where fetched images go: key = name, value = bytes
 * @param endpoint the S3 endpoint of a Hayloft gateway, e.g. {@code http://127.0.0.1:9000}
 * @param region the SigV4 region
 * @param accessKey S3 access key
 * @param secretKey S3 secret key
 * @param bucket the bucket of the images, created at start when missing
 * @param maxInFlightRecords records taken from Kafka and not finished yet, at most
 * @param maxInFlightBytes bytes of those records' values, at most (one poll may go past it once)
 * @param retryBackoffMin first pause before retrying a failed store, fetch or send
 * @param retryBackoffMax longest pause between retries
 * @param commitInterval how often finished offsets are committed
 * @param requestTimeout S3 calls time out after this (and are retried)
 * @param kafkaProperties more settings for the Kafka clients (security, timeouts...), laid over
 *     the bridge's own; the ones the bridge's guarantees depend on cannot be overridden
 */
public record BridgeConfig(String bootstrapServers, String groupId, String initialTopic, String requestTopic,
        String imageTopic, URI endpoint, String region, String accessKey, String secretKey, String bucket,
        int maxInFlightRecords, long maxInFlightBytes, Duration retryBackoffMin, Duration retryBackoffMax,
        Duration commitInterval, Duration requestTimeout, Map<String, String> kafkaProperties) {

    public static final String DEFAULT_GROUP = "hayloft-kafka-bridge";
    public static final String DEFAULT_INITIAL_TOPIC = "initial";
    public static final String DEFAULT_REQUEST_TOPIC = "request-topic";
    public static final String DEFAULT_IMAGE_TOPIC = "image-topic";
    public static final String DEFAULT_BUCKET = "images";

    public BridgeConfig {
        requireText(bootstrapServers, "bootstrapServers");
        requireText(groupId, "groupId");
        requireText(initialTopic, "initialTopic");
        requireText(requestTopic, "requestTopic");
        requireText(imageTopic, "imageTopic");
        if (initialTopic.equals(requestTopic) || imageTopic.equals(requestTopic) || imageTopic.equals(initialTopic)) {
            throw new IllegalArgumentException("the initial, request and image topics must be three different topics");
        }
        Objects.requireNonNull(endpoint, "endpoint");
        if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
            throw new IllegalArgumentException("endpoint must be an http:// or https:// URL, not " + endpoint);
        }
        requireText(region, "region");
        requireText(accessKey, "accessKey");
        requireText(secretKey, "secretKey");
        requireText(bucket, "bucket");
        if (maxInFlightRecords < 1 || maxInFlightRecords > 100_000) {
            throw new IllegalArgumentException("maxInFlightRecords must be 1 to 100000, not " + maxInFlightRecords);
        }
        if (maxInFlightBytes < 1 << 20 || maxInFlightBytes > 64L << 30) {
            throw new IllegalArgumentException("maxInFlightBytes must be 1 MiB to 64 GiB, not " + maxInFlightBytes);
        }
        requirePositive(retryBackoffMin, "retryBackoffMin");
        requirePositive(retryBackoffMax, "retryBackoffMax");
        if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
            throw new IllegalArgumentException("retryBackoffMax must not be below retryBackoffMin");
        }
        requirePositive(commitInterval, "commitInterval");
        requirePositive(requestTimeout, "requestTimeout");
        kafkaProperties = Map.copyOf(kafkaProperties);
        KafkaClients.check(kafkaProperties);
    }

    /** The defaults: topics, group and bucket as documented, 256 records and 256 MiB in flight. */
    public static BridgeConfig defaults(String bootstrapServers, URI endpoint, String accessKey, String secretKey) {
        return new BridgeConfig(bootstrapServers, DEFAULT_GROUP, DEFAULT_INITIAL_TOPIC, DEFAULT_REQUEST_TOPIC,
                DEFAULT_IMAGE_TOPIC, endpoint, "us-east-1", accessKey, secretKey, DEFAULT_BUCKET, 256, 256L << 20,
                Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(30),
                Map.of());
    }

    public BridgeConfig withGroupId(String g) {
        return new BridgeConfig(bootstrapServers, g, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                commitInterval, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withTopics(String initial, String request, String image) {
        return new BridgeConfig(bootstrapServers, groupId, initial, request, image, endpoint, region,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                commitInterval, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withBucket(String b) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, b, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                commitInterval, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withRegion(String r) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, r,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                commitInterval, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withInFlight(int records, long bytes) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, bucket, records, bytes, retryBackoffMin, retryBackoffMax,
                commitInterval, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withRetryBackoff(Duration min, Duration max) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, min, max,
                commitInterval, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withCommitInterval(Duration d) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                d, requestTimeout, kafkaProperties);
    }

    public BridgeConfig withRequestTimeout(Duration d) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                commitInterval, d, kafkaProperties);
    }

    public BridgeConfig withKafkaProperties(Map<String, String> p) {
        return new BridgeConfig(bootstrapServers, groupId, initialTopic, requestTopic, imageTopic, endpoint, region,
                accessKey, secretKey, bucket, maxInFlightRecords, maxInFlightBytes, retryBackoffMin, retryBackoffMax,
                commitInterval, requestTimeout, p);
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must be given");
        }
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration");
        }
    }
}
