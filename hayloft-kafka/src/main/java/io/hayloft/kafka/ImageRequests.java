package io.hayloft.kafka;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;

/**
 * The {@code request-topic} topic's work: each record's value names an image, which is fetched
 * and produced to the image topic (key = name, value = bytes). A name the store does not have
 * gets a reply with an empty value and the header {@code hayloft-error: NoSuchKey}; other
 * refusals (a name too long, an image too large for Kafka) get their own code the same way. The
 * record is finished only when Kafka acknowledged the reply (acks=all), so a crash before that
 * answers the request again: a consumer of the image topic may see a reply twice.
 *
 * <p>Fetched images are held in memory until Kafka has them: their bytes come out of a
 * {@link ByteBudget} shared by all requests (the size of the in-flight byte bound, apart from it),
 * taken before the body is read, so many requests for large images wait for room instead of
 * exhausting the heap.
 */
final class ImageRequests implements RecordWork {
    /** The header that marks a reply without an image, with the error's code as its value. */
    static final String ERROR_HEADER = "hayloft-error";
    static final String TOO_LARGE = "EntityTooLarge";

    private static final byte[] EMPTY = new byte[0];

    private final ImageStore store;
    private final Producer<byte[], byte[]> producer;
    private final String imageTopic;
    private final long sendTimeoutMs;
    private final long maxImageBytes;
    private final ByteBudget budget;
    private final BridgeMetrics metrics;

    /**
     * @param maxImageBytes larger images are answered with {@code EntityTooLarge} without being read
     * @param budget bytes of fetched images held at once, across all requests
     */
    ImageRequests(ImageStore store, Producer<byte[], byte[]> producer, String imageTopic, long sendTimeoutMs,
            long maxImageBytes, ByteBudget budget, BridgeMetrics metrics) {
        this.store = store;
        this.producer = producer;
        this.imageTopic = imageTopic;
        this.sendTimeoutMs = sendTimeoutMs;
        this.maxImageBytes = maxImageBytes;
        this.budget = budget;
        this.metrics = metrics;
    }

    @Override
    public void process(ConsumerRecord<byte[], byte[]> record) throws BridgeException, InterruptedException {
        String name = Names.decode(record.value(), "value");
        byte[] image;
        try (ImageStore.Fetch fetch = store.fetch(name)) {
            if (fetch.size() > maxImageBytes) {
                throw BridgeException.permanent(TOO_LARGE, "the image " + Names.shown(name) + " has " + fetch.size()
                        + " bytes, more than a reply may carry (" + maxImageBytes + ")");
            }
            int permits = budget.permits(fetch.size());
            budget.acquire(permits);
            try {
                image = fetch.readAll();
                reply(name, image, null);
            } finally {
                budget.release(permits);
            }
            metrics.served(true);
        } catch (BridgeException e) {
            if (e.isTransient()) {
                throw e;
            }
            reply(name, EMPTY, e.code());
            if ("NoSuchKey".equals(e.code())) {
                metrics.served(false);
            } else {
                metrics.error(BridgeMetrics.ErrorKind.REFUSED);
                metrics.refusedRequest();
            }
        }
    }

    /** Produces the reply and waits for Kafka to acknowledge it. */
    private void reply(String name, byte[] image, String error) throws BridgeException, InterruptedException {
        ProducerRecord<byte[], byte[]> reply = new ProducerRecord<>(imageTopic, Names.encode(name), image);
        if (error != null) {
            reply.headers().add(ERROR_HEADER, error.getBytes(StandardCharsets.UTF_8));
        }
        try {
            producer.send(reply).get(sendTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw sendFailure(name, image, e.getCause());
        } catch (KafkaException e) {
            // Refused before it left: the producer checks sizes and state in send() too.
            throw sendFailure(name, image, e);
        } catch (TimeoutException e) {
            throw BridgeException.transientFailure("KafkaUnavailable", "the reply for " + Names.shown(name)
                    + " was not acknowledged within " + sendTimeoutMs + " ms", e);
        }
    }

    private static BridgeException sendFailure(String name, byte[] image, Throwable cause) {
        if (cause instanceof RecordTooLargeException) {
            return BridgeException.permanent(TOO_LARGE, "the image " + Names.shown(name) + " (" + image.length
                    + " bytes) is too large for a Kafka record here: " + cause.getMessage());
        }
        return BridgeException.transientFailure("KafkaUnavailable",
                "sending the reply for " + Names.shown(name) + " failed: " + cause, cause);
    }

    @Override
    public String orderKey(ConsumerRecord<byte[], byte[]> record) {
        return null;
    }
}
