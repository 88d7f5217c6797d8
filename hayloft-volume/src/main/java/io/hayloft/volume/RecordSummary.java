package io.hayloft.volume;

/**
 * What identifies one record of a volume without its data: two replicas whose records at the same
 * sequence have equal summaries hold the same record (the data CRC32C stands for the bytes).
 */
public record RecordSummary(long needleId, int cookie, boolean tombstone, int dataLength, int dataCrc,
        long sequence) {}
