package io.hayloft.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The {@code initial} topic's work: each record (key = name, value = image) becomes the object
 * {@code name}. Storing again what was stored is harmless, so a record delivered twice is fine;
 * records with the same name take effect in offset order, so the last image produced wins.
 */
final class ImageIntake implements RecordWork {
    private final ImageStore store;
    private final BridgeMetrics metrics;

    ImageIntake(ImageStore store, BridgeMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
    }

    @Override
    public void process(ConsumerRecord<byte[], byte[]> record) throws BridgeException {
        String name = Names.decode(record.key(), "key");
        if (record.value() == null) {
            throw BridgeException.permanent(Names.INVALID_RECORD,
                    "a record without an image (null value) for " + Names.shown(name));
        }
        store.put(name, record.value());
        metrics.stored();
    }

    @Override
    public String orderKey(ConsumerRecord<byte[], byte[]> record) {
        // The key's bytes as they are (Latin-1 maps each byte to one char): equal keys, equal strings.
        return record.key() == null ? null : new String(record.key(), StandardCharsets.ISO_8859_1);
    }
}
