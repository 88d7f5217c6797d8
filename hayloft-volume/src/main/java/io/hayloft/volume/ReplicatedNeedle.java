package io.hayloft.volume;

import java.nio.ByteBuffer;

/**
 * One record as it travels from a primary to a lagging replica: the needle and the sequence
 * number the primary gave it. The data has been checked against its CRC; it is empty for a
 * tombstone.
 */
public record ReplicatedNeedle(long needleId, int cookie, boolean tombstone, long sequence, ByteBuffer data) {}
