package io.hayloft.volume;

import io.hayloft.volume.format.NeedleFormat;

/**
 * Settings of the volume engine, each with one default and a validated range.
 *
 * @param volumeSizeBytesMax largest size of a {@code .dat} file; appends past it fail with
 *     {@link VolumeErrorCode#VOLUME_FULL}. Range 1 MiB to 32 GiB (the index keeps offsets in 32
 *     bits of 8-byte units). Default 8 GiB.
 * @param needleSizeBytesMax largest needle data. Range 0 to 1 GiB, and small enough to fit a
 *     volume. Default 64 MiB.
 * @param fsync whether an append waits for fsync. Only tests and benchmarks turn it off: without
 *     it an acknowledged append can be lost in a power failure. Default true.
 * @param compactionGarbageRatio share of a volume's bytes that are garbage (deleted or overwritten
 *     needles) at which compaction is due. Range 0.01 to 1.0. Default 0.3.
 * @param readPieceBytes size of the pieces in which large needles are streamed, and of scan
 *     buffers. Range 4 KiB to 16 MiB. Default 1 MiB.
 */
public record VolumeConfig(
        long volumeSizeBytesMax,
        int needleSizeBytesMax,
        boolean fsync,
        double compactionGarbageRatio,
        int readPieceBytes) {

    public static final long VOLUME_SIZE_BYTES_MAX_LIMIT = 32L << 30;
    public static final int NEEDLE_SIZE_BYTES_MAX_LIMIT = 1 << 30;

    public VolumeConfig {
        requireRange("volumeSizeBytesMax", volumeSizeBytesMax, 1L << 20, VOLUME_SIZE_BYTES_MAX_LIMIT);
        requireRange("needleSizeBytesMax", needleSizeBytesMax, 0, NEEDLE_SIZE_BYTES_MAX_LIMIT);
        if (NeedleFormat.recordBytes(needleSizeBytesMax) + NeedleFormat.SUPERBLOCK_BYTES > volumeSizeBytesMax) {
            throw new IllegalArgumentException("needleSizeBytesMax " + needleSizeBytesMax
                    + " does not fit in a volume of volumeSizeBytesMax " + volumeSizeBytesMax);
        }
        if (!(compactionGarbageRatio >= 0.01 && compactionGarbageRatio <= 1.0)) {
            throw new IllegalArgumentException(
                    "compactionGarbageRatio must be in [0.01, 1.0], got " + compactionGarbageRatio);
        }
        requireRange("readPieceBytes", readPieceBytes, 4096, 16 << 20);
    }

    /** The defaults for production use. */
    public static VolumeConfig defaults() {
        return new VolumeConfig(8L << 30, 64 << 20, true, 0.3, 1 << 20);
    }

    public VolumeConfig withVolumeSizeBytesMax(long value) {
        return new VolumeConfig(value, needleSizeBytesMax, fsync, compactionGarbageRatio, readPieceBytes);
    }

    public VolumeConfig withNeedleSizeBytesMax(int value) {
        return new VolumeConfig(volumeSizeBytesMax, value, fsync, compactionGarbageRatio, readPieceBytes);
    }

    public VolumeConfig withFsync(boolean value) {
        return new VolumeConfig(volumeSizeBytesMax, needleSizeBytesMax, value, compactionGarbageRatio, readPieceBytes);
    }

    public VolumeConfig withCompactionGarbageRatio(double value) {
        return new VolumeConfig(volumeSizeBytesMax, needleSizeBytesMax, fsync, value, readPieceBytes);
    }

    public VolumeConfig withReadPieceBytes(int value) {
        return new VolumeConfig(volumeSizeBytesMax, needleSizeBytesMax, fsync, compactionGarbageRatio, value);
    }

    private static void requireRange(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(key + " must be in [" + min + ", " + max + "], got " + value);
        }
    }
}
