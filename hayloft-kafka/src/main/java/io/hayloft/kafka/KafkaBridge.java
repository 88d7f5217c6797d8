package io.hayloft.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka bridge: consumes the {@code initial} topic (images to store) and the request topic
 * (names to fetch) in one consumer group, stores and fetches through an {@link ImageStore}, and
 * answers requests on the image topic.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>One thread owns the consumer: it polls, hands each record to a virtual thread of its
 *       own, and commits. Records run concurrently, across and within partitions; records with
 *       the same image name run in offset order ({@link PartitionProgress}).
 *   <li>Nothing is lost: an offset is committed only once every record below it finished, that
 *       is, its image is durable in the store or its reply was acknowledged by Kafka. A failure
 *       that retrying can fix (the store or Kafka unavailable) is retried with back-off, for as
 *       long as it takes, holding the record's offset back. After a crash, the records past the
 *       last commit come again; storing an image twice or answering a request twice is harmless.
 *   <li>Back-pressure: work in flight is bounded in records and bytes ({@link InFlight}); when
 *       the next poll could pass the bound, the consumer pauses its partitions and keeps polling
 *       (to stay in the group) until work finishes.
 *   <li>When partitions go to another bridge, or this one stops, their running work gets a grace
 *       period to finish, then is told to stop before its next attempt; the partitions are handed
 *       over only once none of their work runs, so two bridges never work on one partition at
 *       once, and the finished offsets are committed first.
 * </ul>
 */
public final class KafkaBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaBridge.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(15);
    /** How long work on partitions being given up may still run before it is told to stop. */
    private static final long GIVE_UP_GRACE_MS = 10_000;
    private static final long RETRY_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final BridgeConfig config;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Map<String, RecordWork> work = new HashMap<>();
    /** Touched by the poll thread only. */
    private final Map<TopicPartition, PartitionProgress> partitions = new HashMap<>();
    private final InFlight inFlight;
    private final BridgeMetrics metrics;
    private final int maxPollRecords;
    private final ExecutorService workers =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("kafka-bridge-work-", 0).factory());
    private final Thread pollThread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicLong lastRetryLogNanos = new AtomicLong(System.nanoTime() - RETRY_LOG_INTERVAL_NANOS);
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile Set<TopicPartition> assigned = Set.of();

    private KafkaBridge(BridgeConfig config, ImageStore store, MeterRegistry registry) {
        this.config = config;
        String clientId = "hayloft-bridge-" + UUID.randomUUID().toString().substring(0, 8);
        this.inFlight = new InFlight(config.maxInFlightRecords(), config.maxInFlightBytes());
        this.metrics = new BridgeMetrics(registry, inFlight);
        this.maxPollRecords = KafkaClients.maxPollRecords(config);
        this.producer = new KafkaProducer<>(KafkaClients.producer(config, clientId));
        try {
            this.consumer = new KafkaConsumer<>(KafkaClients.consumer(config, clientId));
        } catch (KafkaException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        work.put(config.initialTopic(), new ImageIntake(store, metrics));
        work.put(config.requestTopic(), new ImageRequests(store, producer, config.imageTopic(),
                config.requestTimeout().toMillis(), KafkaClients.maxRequestBytes(config),
                new ByteBudget(config.maxInFlightBytes()), metrics));
        this.pollThread = Thread.ofPlatform().name("kafka-bridge-poll").unstarted(this::pollLoop);
    }

    /**
     * Starts consuming. The store stays the caller's: close it after the bridge.
     *
     * @throws IllegalArgumentException when a Kafka setting is refused
     * @throws KafkaException when the Kafka clients cannot be made from the settings
     */
    public static KafkaBridge start(BridgeConfig config, ImageStore store, MeterRegistry registry) {
        KafkaBridge bridge = new KafkaBridge(config, store, registry);
        bridge.pollThread.start();
        return bridge;
    }

    private void pollLoop() {
        try {
            consumer.subscribe(List.of(config.initialTopic(), config.requestTopic()), new Rebalance());
            long commitEveryNanos = config.commitInterval().toNanos();
            long nextCommit = System.nanoTime() + commitEveryNanos;
            while (running) {
                applyBackPressure();
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    dispatch(r);
                }
                assigned = Set.copyOf(consumer.assignment());
                updateLag();
                if (System.nanoTime() - nextCommit >= 0) {
                    commit(new ArrayList<>(partitions.keySet()));
                    nextCommit = System.nanoTime() + commitEveryNanos;
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (Throwable t) {
            failure = t;
            log.error("the Kafka bridge stops: {}", t.toString(), t);
        } finally {
            stopConsuming();
        }
    }

    private void stopConsuming() {
        try {
            giveUp(new ArrayList<>(partitions.keySet()), true);
        } catch (RuntimeException e) {
            log.warn("committing the last offsets failed: {}", e.toString());
        }
        workers.shutdownNow();
        try {
            consumer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            log.warn("closing the consumer failed: {}", e.toString());
        }
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            log.warn("closing the producer failed: {}", e.toString());
        }
        stopped.countDown();
    }

    private void applyBackPressure() {
        if (inFlight.full(maxPollRecords)) {
            consumer.pause(consumer.assignment());
        } else if (!consumer.paused().isEmpty()) {
            consumer.resume(consumer.paused());
        }
    }

    private void dispatch(ConsumerRecord<byte[], byte[]> r) {
        metrics.consumed(r.topic());
        RecordWork w = work.get(r.topic());
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        PartitionProgress p = partitions.computeIfAbsent(tp, x -> new PartitionProgress());
        PartitionProgress.Ticket t = p.take(r.offset(), w.orderKey(r));
        long bytes = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        inFlight.add(bytes);
        workers.execute(() -> run(p, t, r, w, bytes));
    }

    /** One record's work, retried until it succeeds, fails for good, or its partition is given up. */
    private void run(PartitionProgress p, PartitionProgress.Ticket t, ConsumerRecord<byte[], byte[]> r,
            RecordWork w, long bytes) {
        try {
            if (t.before != null) {
                t.before.join();  // completes when the previous record with the name finished or was given up
            }
            long backoffMs = config.retryBackoffMin().toMillis();
            while (!p.abandoned()) {
                if (attempt(r, w)) {
                    p.finish(t);
                    return;
                }
                p.pause(backoffMs);
                backoffMs = Math.min(backoffMs * 2, config.retryBackoffMax().toMillis());
            }
        } catch (InterruptedException e) {
            // Stopping: the record is not finished, so its offset is not committed.
            Thread.currentThread().interrupt();
        } finally {
            inFlight.remove(bytes);
            p.exited();
        }
    }

    /** One attempt; true when the record is done with (succeeded, or skipped for good). */
    private boolean attempt(ConsumerRecord<byte[], byte[]> r, RecordWork w) throws InterruptedException {
        try {
            w.process(r);
            return true;
        } catch (BridgeException e) {
            if (!e.isTransient()) {
                boolean invalid = Names.INVALID_RECORD.equals(e.code());
                metrics.error(invalid ? BridgeMetrics.ErrorKind.INVALID_RECORD : BridgeMetrics.ErrorKind.REFUSED);
                log.warn("{}-{} offset {}: skipped: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
                return true;
            }
            metrics.error(BridgeMetrics.ErrorKind.RETRY);
            logRetry(r, e.getMessage());
            return false;
        } catch (RuntimeException e) {
            // A bug, not the record's fault: retrying keeps the record rather than dropping it.
            metrics.error(BridgeMetrics.ErrorKind.RETRY);
            log.error("{}-{} offset {}: unexpected failure, will retry", r.topic(), r.partition(), r.offset(), e);
            return false;
        }
    }

    private void logRetry(ConsumerRecord<byte[], byte[]> r, String why) {
        long now = System.nanoTime();
        long last = lastRetryLogNanos.get();
        if (now - last >= RETRY_LOG_INTERVAL_NANOS && lastRetryLogNanos.compareAndSet(last, now)) {
            log.warn("{}-{} offset {}: will retry: {} ({} records in flight)", r.topic(), r.partition(), r.offset(),
                    why, inFlight.records());
        }
    }

    private void updateLag() {
        Map<String, Long> lag = new HashMap<>();
        lag.put(config.initialTopic(), 0L);
        lag.put(config.requestTopic(), 0L);
        for (TopicPartition tp : consumer.assignment()) {
            consumer.currentLag(tp).ifPresent(l -> lag.merge(tp.topic(), l, Long::sum));
        }
        lag.forEach(metrics::lag);
    }

    /** Commits the finished offsets of the partitions; a failure leaves them for the next commit. */
    private void commit(Collection<TopicPartition> tps) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : tps) {
            PartitionProgress p = partitions.get(tp);
            long c = p == null ? -1 : p.committable();
            if (c >= 0) {
                offsets.put(tp, new OffsetAndMetadata(c));
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets, COMMIT_TIMEOUT);
            offsets.forEach((tp, o) -> partitions.get(tp).committed(o.offset()));
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            log.warn("committing offsets failed (they are committed later, or the records come again): {}",
                    e.toString());
        }
    }

    /**
     * Gives the partitions up: lets their work finish for a grace period, tells the rest to stop,
     * waits until none runs, then commits what finished (unless the partitions are already lost).
     */
    private void giveUp(Collection<TopicPartition> tps, boolean commit) {
        List<PartitionProgress> ps = tps.stream().map(partitions::get).filter(p -> p != null).toList();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GIVE_UP_GRACE_MS);
        long idleWaitMs = config.requestTimeout().toMillis() + 5_000;
        try {
            for (PartitionProgress p : ps) {
                p.awaitFinished(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
            for (PartitionProgress p : ps) {
                p.abandon();
            }
            for (PartitionProgress p : ps) {
                if (!p.awaitIdle(idleWaitMs)) {
                    log.warn("work on a partition being given up still runs after {} ms", idleWaitMs);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (commit) {
            commit(tps);
        }
        tps.forEach(partitions::remove);
    }

    /** Rebalances happen inside poll, on the poll thread. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> tps) {
            giveUp(tps, true);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> tps) {
            // Already someone else's: finishing is still fine, committing is not possible.
            giveUp(tps, false);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> tps) {
            log.info("assigned {}", tps);
        }
    }

    /** False once the bridge stopped, closed or failed. */
    public boolean isRunning() {
        return stopped.getCount() > 0;
    }

    /** Waits until the bridge stops (closed, or failed: see {@link #failure()}). */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Why the bridge stopped by itself, or null. */
    public Throwable failure() {
        return failure;
    }

    /** The partitions this bridge consumes, as of its last poll. */
    public Set<TopicPartition> assignedPartitions() {
        return assigned;
    }

    /** Records in flight now (for tests and the metrics). */
    int inFlightRecords() {
        return inFlight.records();
    }

    /** The most records ever in flight at once. */
    int peakInFlightRecords() {
        return inFlight.peakRecords();
    }

    BridgeMetrics metrics() {
        return metrics;
    }

    /** Stops consuming: running work gets a grace period, finished offsets are committed. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            long waitMs = GIVE_UP_GRACE_MS + config.requestTimeout().toMillis() + 30_000;
            if (!stopped.await(waitMs, TimeUnit.MILLISECONDS)) {
                log.warn("the Kafka bridge did not stop within {} ms", waitMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
