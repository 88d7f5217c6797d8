package io.hayloft.volume;

/**
 * A snapshot of a volume's counters.
 *
 * @param sizeBytes length of the durable part of the {@code .dat} file
 * @param liveBytes bytes of the records of live needles
 * @param garbageBytes bytes that compaction would reclaim: deleted and overwritten needles and
 *     damaged ranges (the small tombstones, which compaction keeps, are not counted)
 * @param liveNeedles needles that can be read
 * @param deletedNeedles needles whose newest record is a tombstone
 * @param lastSequence the highest append sequence number of the volume
 */
public record VolumeStats(
        int volumeId,
        long generation,
        long sizeBytes,
        long liveBytes,
        long garbageBytes,
        long liveNeedles,
        long deletedNeedles,
        long lastSequence,
        boolean sealed,
        boolean failed) {

    /** Garbage as a share of the bytes after the superblock, 0 for an empty volume. */
    public double garbageRatio() {
        long used = liveBytes + garbageBytes;
        return used == 0 ? 0 : (double) garbageBytes / used;
    }
}
