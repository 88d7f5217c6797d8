package io.hayloft.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/** What the bridge does with the records of one topic. */
interface RecordWork {
    /**
     * Does the record's work; returns once its effect is durable (the object stored, the reply
     * acknowledged by Kafka). A transient failure is retried, the same record again; a permanent
     * one means the record can never succeed, and it is skipped.
     */
    void process(ConsumerRecord<byte[], byte[]> record) throws BridgeException, InterruptedException;

    /** Records with the same order key take effect in offset order; null when order does not matter. */
    String orderKey(ConsumerRecord<byte[], byte[]> record);
}
