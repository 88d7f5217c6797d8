package io.hayloft.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

/**
 * Nothing is lost when the bridge is killed (SIGKILL, a process of its own) half-way through its
 * work and started again, nor when the gateway or a store restarts under it: every image is
 * stored, every request answered, byte for byte.
 */
class BridgeRestartTest {
    private static final long SEED = Long.getLong("hayloft.seed", System.nanoTime());

    @TempDir
    Path dir;

    private final List<Process> bridges = new ArrayList<>();

    @AfterEach
    void killBridges() {
        bridges.forEach(Process::destroyForcibly);
    }

    @Test
    void killedBridgeAndRestartedNodesLoseNothing() throws Exception {
        System.out.println("BridgeRestartTest seed " + SEED + " (rerun with -Dhayloft.seed=" + SEED + ")");
        try (KafkaBroker kafka = KafkaBroker.start(dir.resolve("kafka"));
                HayloftUnderTest hayloft = HayloftUnderTest.start(dir.resolve("hayloft"));
                KafkaProducer<byte[], byte[]> producer = kafka.producer(); S3Client s3 = hayloft.s3()) {
            kafka.createTopic("initial", 4);
            kafka.createTopic("request-topic", 4);
            kafka.createTopic("image-topic", 1);
            Map<String, byte[]> images = KafkaBridgeTest.images(new Random(SEED), 1_000);

            List<String> names = new ArrayList<>(images.keySet());
            Process first = startBridge(kafka, hayloft, "first");
            // 600 images, and the bridge is killed once 300 of them are stored; the other 400 come after.
            for (String name : names.subList(0, 600)) {
                producer.send(new ProducerRecord<>("initial", Names.encode(name), images.get(name)));
            }
            producer.flush();
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> listed(s3) >= 300);
            kill(first);
            int storedAtKill = listed(s3);
            for (String name : names.subList(600, names.size())) {
                producer.send(new ProducerRecord<>("initial", Names.encode(name), images.get(name)));
            }
            producer.flush();

            // While no bridge runs, the gateway goes away and comes back later, under the next bridge.
            hayloft.stopGateway();
            Process second = startBridge(kafka, hayloft, "second");
            hayloft.startGateway();
            Awaitility.await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                    .until(() -> listed(s3) == names.size());
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                assertThat(s3.getObjectAsBytes(b -> b.bucket("images").key(e.getKey())).asByteArray())
                        .as(e.getKey()).isEqualTo(e.getValue());
            }

            for (int i = 0; i < names.size(); i++) {
                producer.send(new ProducerRecord<>("request-topic", i % 4, null, Names.encode(names.get(i))));
            }
            producer.flush();
            Map<String, byte[]> replies = new ConcurrentHashMap<>();
            AtomicInteger errors = new AtomicInteger();
            kafka.readAll("image-topic", r -> {
                if (r.headers().lastHeader(ImageRequests.ERROR_HEADER) != null) {
                    errors.incrementAndGet();
                }
                replies.put(new String(r.key(), StandardCharsets.UTF_8), r.value());
            }, () -> replies.size() >= 300, Duration.ofSeconds(120));
            kill(second);
            // A store restarts while the third bridge answers the rest: reads go to the other replicas.
            hayloft.cluster.stopStore(1);
            Process third = startBridge(kafka, hayloft, "third");
            hayloft.cluster.restartStore(1);
            boolean all = kafka.readAll("image-topic", r -> {
                if (r.headers().lastHeader(ImageRequests.ERROR_HEADER) != null) {
                    errors.incrementAndGet();
                }
                replies.put(new String(r.key(), StandardCharsets.UTF_8), r.value());
            }, () -> replies.size() >= names.size(), Duration.ofSeconds(180));
            assertThat(all).as("replies to every request: %d of %d", replies.size(), names.size()).isTrue();
            assertThat(errors).hasValue(0);
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                assertThat(replies.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            System.out.printf("images stored when the first bridge was killed: %d of 600 produced%n", storedAtKill);
            assertThat(third.isAlive()).isTrue();
        }
    }

    private Process startBridge(KafkaBroker kafka, HayloftUnderTest hayloft, String name) throws Exception {
        Path ready = dir.resolve(name + ".ready");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                BridgeProcess.class.getName(), kafka.bootstrapServers(), hayloft.endpoint().toString(),
                HayloftUnderTest.ACCESS_KEY, HayloftUnderTest.SECRET_KEY, ready.toString());
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve(name + ".log").toFile()).start();
        bridges.add(p);
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(ready) || !p.isAlive());
        assertThat(p.isAlive()).as("bridge %s started; its log: %s", name, dir.resolve(name + ".log")).isTrue();
        return p;
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();  // SIGKILL: no shutdown hook, no last commit
        p.waitFor();
    }

    /** How many objects the bucket holds now (none before the bucket exists). */
    private static int listed(S3Client s3) {
        try {
            int n = 0;
            for (var page : s3.listObjectsV2Paginator(b -> b.bucket("images"))) {
                n += page.keyCount();
            }
            return n;
        } catch (NoSuchBucketException e) {
            return 0;
        }
    }
}
