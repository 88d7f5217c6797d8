package io.hayloft.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The bridge against a real Kafka broker and a real Hayloft cluster, both in the test JVM: two
 * bridges in one group store 1,000 images and answer requests for all of them, byte for byte.
 */
class KafkaBridgeTest {
    private static final long SEED = Long.getLong("hayloft.seed", System.nanoTime());

    @TempDir
    static Path dir;

    static KafkaBroker kafka;
    static HayloftUnderTest hayloft;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaBroker.start(dir.resolve("kafka"));
        hayloft = HayloftUnderTest.start(dir.resolve("hayloft"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (hayloft != null) {
            hayloft.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void twoBridgesStoreImagesAndAnswerEveryRequest() throws Exception {
        System.out.println("KafkaBridgeTest seed " + SEED + " (rerun with -Dhayloft.seed=" + SEED + ")");
        kafka.createTopic("initial", 4);
        kafka.createTopic("request-topic", 4);
        kafka.createTopic("image-topic", 2);
        BridgeConfig config = hayloft.bridgeConfig(kafka.bootstrapServers()).withInFlight(64, 16L << 20);
        PrometheusMeterRegistry registry1 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PrometheusMeterRegistry registry2 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (S3ImageStore store1 = S3ImageStore.connect(config); S3ImageStore store2 = S3ImageStore.connect(config);
                KafkaBridge bridge1 = KafkaBridge.start(config, store1, registry1);
                KafkaBridge bridge2 = KafkaBridge.start(config, store2, registry2);
                MetricsServer metrics1 = MetricsServer.start("127.0.0.1", 0, registry1, bridge1::isRunning);
                KafkaProducer<byte[], byte[]> producer = kafka.producer(); S3Client s3 = hayloft.s3()) {
            // Both members hold partitions of both topics before anything is produced.
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() ->
                    bridge1.assignedPartitions().size() + bridge2.assignedPartitions().size() == 8
                    && !bridge1.assignedPartitions().isEmpty() && !bridge2.assignedPartitions().isEmpty());

            Map<String, byte[]> images = images(new Random(SEED), 1_000);
            images.forEach((name, bytes) -> producer.send(new ProducerRecord<>("initial", Names.encode(name), bytes)));
            // Records the bridge must skip, counted, without holding the partitions back.
            producer.send(new ProducerRecord<>("initial", null, new byte[] {1}));
            producer.send(new ProducerRecord<>("initial", new byte[] {(byte) 0xC3, 0x28}, new byte[] {2}));
            producer.send(new ProducerRecord<>("initial", Names.encode("no-value"), null));
            // The same name twice: the later image wins.
            producer.send(new ProducerRecord<>("initial", Names.encode("twice"), bytes("first")));
            producer.send(new ProducerRecord<>("initial", Names.encode("twice"), bytes("second")));
            producer.flush();

            Awaitility.await().atMost(Duration.ofSeconds(120)).until(() ->
                    bridge1.metrics().storedCount() + bridge2.metrics().storedCount() >= images.size() + 2
                    && bridge1.metrics().errorCount(BridgeMetrics.ErrorKind.INVALID_RECORD)
                            + bridge2.metrics().errorCount(BridgeMetrics.ErrorKind.INVALID_RECORD) == 3);
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                assertThat(s3.getObjectAsBytes(b -> b.bucket("images").key(e.getKey())).asByteArray())
                        .as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(s3.getObjectAsBytes(b -> b.bucket("images").key("twice")).asUtf8String()).isEqualTo("second");
            assertThat(bridge1.metrics().consumedCount("initial")).isPositive();
            assertThat(bridge2.metrics().consumedCount("initial")).isPositive();

            List<String> requested = new ArrayList<>(images.keySet());
            requested.addAll(List.of("never-stored-1", "never-stored-2", "ü/never stored"));
            for (int i = 0; i < requested.size(); i++) {
                // Spread over the partitions (records without a key would stick to one partition per batch).
                producer.send(new ProducerRecord<>("request-topic", i % 4, null, Names.encode(requested.get(i))));
            }
            producer.flush();

            Map<String, ConsumerRecord<byte[], byte[]>> replies = new ConcurrentHashMap<>();
            boolean all = kafka.readAll("image-topic",
                    r -> replies.put(new String(r.key(), StandardCharsets.UTF_8), r),
                    () -> replies.size() >= requested.size(), Duration.ofSeconds(120));
            assertThat(all).as("replies to every request, got %d of %d", replies.size(), requested.size()).isTrue();
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                ConsumerRecord<byte[], byte[]> r = replies.get(e.getKey());
                assertThat(r.value()).as(e.getKey()).isEqualTo(e.getValue());
                assertThat(r.headers().lastHeader(ImageRequests.ERROR_HEADER)).isNull();
            }
            for (String missing : List.of("never-stored-1", "never-stored-2", "ü/never stored")) {
                ConsumerRecord<byte[], byte[]> r = replies.get(missing);
                assertThat(r.value()).isEmpty();
                Header h = r.headers().lastHeader(ImageRequests.ERROR_HEADER);
                assertThat(new String(h.value(), StandardCharsets.UTF_8)).isEqualTo("NoSuchKey");
            }
            assertThat(bridge1.metrics().consumedCount("request-topic")).isPositive();
            assertThat(bridge2.metrics().consumedCount("request-topic")).isPositive();
            assertThat(bridge1.peakInFlightRecords()).isLessThanOrEqualTo(64);
            assertThat(bridge2.peakInFlightRecords()).isLessThanOrEqualTo(64);

            String scraped = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + metrics1.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(scraped).contains("hayloft_bridge_records_consumed_total{topic=\"initial\"}",
                    "hayloft_bridge_objects_stored_total", "hayloft_bridge_requests_served_total{result=\"found\"}",
                    "hayloft_bridge_errors_total{kind=\"invalid_record\"}", "hayloft_bridge_consumer_lag{topic=",
                    "hayloft_bridge_in_flight_records");
        }
    }

    @Test
    void workInFlightStaysBoundedWhileTheStoreIsSlow() throws Exception {
        kafka.createTopic("bp-initial", 2);
        kafka.createTopic("bp-request", 2);
        BridgeConfig config = hayloft.bridgeConfig(kafka.bootstrapServers()).withGroupId("bp")
                .withTopics("bp-initial", "bp-request", "bp-image").withBucket("bp-images").withInFlight(8, 1 << 20);
        try (S3ImageStore s3Store = S3ImageStore.connect(config); GatedStore store = new GatedStore(s3Store);
                KafkaBridge bridge = KafkaBridge.start(config, store, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                KafkaProducer<byte[], byte[]> producer = kafka.producer(); S3Client s3 = hayloft.s3()) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>("bp-initial", i % 2, Names.encode("bp-" + i), bytes("image " + i)));
            }
            producer.flush();
            // The store holds every write: the bridge takes up to its bound and then stops taking.
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> store.waiting() >= 7);
            Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() ->
                    bridge.inFlightRecords() <= 8 && bridge.metrics().consumedCount("bp-initial") <= 8);
            store.open();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> bridge.metrics().storedCount() == 100);
            assertThat(bridge.peakInFlightRecords()).isLessThanOrEqualTo(8);
            for (int i = 0; i < 100; i++) {
                String key = "bp-" + i;
                assertThat(s3.getObjectAsBytes(b -> b.bucket("bp-images").key(key)).asUtf8String()).isEqualTo("image " + i);
            }
        }
    }

    @Test
    void refusalsAreAnsweredOrSkippedWithTheirCode() throws Exception {
        kafka.createTopic("err-initial", 1);
        kafka.createTopic("err-request", 1);
        kafka.createTopic("err-image", 1);
        BridgeConfig config = hayloft.bridgeConfig(kafka.bootstrapServers()).withGroupId("err")
                .withTopics("err-initial", "err-request", "err-image").withBucket("err-images")
                .withKafkaProperties(Map.of("producer.max.request.size", String.valueOf(4 << 20)));
        String tooLong = "x".repeat(1025);
        try (S3ImageStore store = S3ImageStore.connect(config);
                KafkaBridge bridge = KafkaBridge.start(config, store, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                KafkaProducer<byte[], byte[]> producer = kafka.producer(); S3Client s3 = hayloft.s3()) {
            // A name S3 refuses is skipped; the image after it is stored.
            producer.send(new ProducerRecord<>("err-initial", Names.encode(tooLong), bytes("never")));
            producer.send(new ProducerRecord<>("err-initial", Names.encode("after"), bytes("stored")));
            producer.flush();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> bridge.metrics().storedCount() == 1);
            assertThat(bridge.metrics().errorCount(BridgeMetrics.ErrorKind.REFUSED)).isEqualTo(1);
            assertThat(s3.getObjectAsBytes(b -> b.bucket("err-images").key("after")).asUtf8String()).isEqualTo("stored");

            // Images larger than the broker takes (1 MiB by default), or than the producer sends
            // (4 MiB here: refused before the bridge reads it), are answered without them.
            byte[] huge = new byte[5 << 20];
            new Random(SEED).nextBytes(huge);
            s3.putObject(b -> b.bucket("err-images").key("huge"),
                    software.amazon.awssdk.core.sync.RequestBody.fromBytes(java.util.Arrays.copyOf(huge, 3 << 20)));
            s3.putObject(b -> b.bucket("err-images").key("huger"),
                    software.amazon.awssdk.core.sync.RequestBody.fromBytes(huge));
            for (String name : List.of(tooLong, "huge", "huger", "after")) {
                producer.send(new ProducerRecord<>("err-request", null, Names.encode(name)));
            }
            producer.flush();
            Map<String, ConsumerRecord<byte[], byte[]>> replies = new ConcurrentHashMap<>();
            assertThat(kafka.readAll("err-image", r -> replies.put(new String(r.key(), StandardCharsets.UTF_8), r),
                    () -> replies.size() == 4, Duration.ofSeconds(60))).isTrue();
            assertThat(error(replies.get(tooLong))).isEqualTo("KeyTooLongError");
            assertThat(replies.get(tooLong).value()).isEmpty();
            assertThat(error(replies.get("huge"))).isEqualTo("EntityTooLarge");
            assertThat(replies.get("huge").value()).isEmpty();
            assertThat(error(replies.get("huger"))).isEqualTo("EntityTooLarge");
            assertThat(replies.get("huger").value()).isEmpty();
            assertThat(error(replies.get("after"))).isNull();
            assertThat(new String(replies.get("after").value(), StandardCharsets.UTF_8)).isEqualTo("stored");
        }
    }

    private static String error(ConsumerRecord<byte[], byte[]> r) {
        Header h = r.headers().lastHeader(ImageRequests.ERROR_HEADER);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** The real store behind a gate that holds every write until it is opened. */
    private static final class GatedStore implements ImageStore {
        private final ImageStore inner;
        private final java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

        GatedStore(ImageStore inner) {
            this.inner = inner;
        }

        @Override
        public void put(String name, byte[] image) throws BridgeException {
            waiting.incrementAndGet();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw BridgeException.transientFailure("Interrupted", "interrupted", e);
            } finally {
                waiting.decrementAndGet();
            }
            inner.put(name, image);
        }

        @Override
        public Fetch fetch(String name) throws BridgeException {
            return inner.fetch(name);
        }

        int waiting() {
            return waiting.get();
        }

        void open() {
            gate.countDown();
        }

        @Override
        public void close() {
            open();
        }
    }

    /** Images of awkward sizes: empty, one byte, around the gateway's 64 KiB chunk, and up to 200 KiB. */
    static Map<String, byte[]> images(Random random, int count) {
        int[] fixed = {0, 1, 4095, 4097, (64 << 10) - 1, 64 << 10, (64 << 10) + 1, 200 << 10};
        Map<String, byte[]> images = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int size = i < fixed.length ? fixed[i] : i % 50 == 0 ? random.nextInt(200 << 10) : random.nextInt(8 << 10);
            byte[] b = new byte[size];
            random.nextBytes(b);
            String name = i % 100 == 7 ? "photos/ünïcode " + i + ".jpg" : "photos/" + i + ".jpg";
            images.put(name, b);
        }
        return images;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
