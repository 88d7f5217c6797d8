package io.hayloft.volume.compaction;

import io.hayloft.volume.io.Directories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The phase marker of a volume's compaction, kept on disk so that a crash at any step rolls the
 * compaction forward or back when the volume is next opened.
 *
 * <p>Files of volume {@code N} during a compaction: {@code N.cpd} and {@code N.cpx}, the new data
 * and index files, and {@code N.cpm}, this marker. The steps:
 * <ol>
 *   <li>write marker COPYING; copy live records into {@code N.cpd}, index entries into
 *       {@code N.cpx}; fsync both and the directory;
 *   <li>write marker COMMITTING (atomically: temporary file, fsync, rename, directory fsync);
 *   <li>rename {@code N.cpd} over {@code N.dat}, {@code N.cpx} over {@code N.idx}; fsync the
 *       directory; delete the marker; fsync the directory.
 * </ol>
 * Recovery: with a COMMITTING marker, finish the renames that did not happen (roll forward);
 * otherwise delete the new files (roll back). Either way the volume is whole, because the old
 * files are untouched until the marker says COMMITTING and the new ones are durable before it.
 *
 * <p>Marker format, version 1 (24 bytes): magic 0x484C434D ("HLCM") u32, version u16, phase u16
 * (1 COPYING, 2 COMMITTING), volume id u32, new generation u64, CRC32C of bytes [0, 20) u32.
 */
public final class CompactionMarker {
    private static final int MAGIC = 0x484C434D;
    private static final int VERSION = 1;

    /** Where a compaction stands. */
    public enum Phase {
        COPYING(1),
        COMMITTING(2);

        final int code;

        Phase(int code) {
            this.code = code;
        }
    }

    private CompactionMarker() {}

    public static Path markerPath(Path dir, int volumeId) {
        return dir.resolve(volumeId + ".cpm");
    }

    public static Path newDataPath(Path dir, int volumeId) {
        return dir.resolve(volumeId + ".cpd");
    }

    public static Path newIndexPath(Path dir, int volumeId) {
        return dir.resolve(volumeId + ".cpx");
    }

    /** Durably records the phase. */
    public static void write(Path dir, int volumeId, Phase phase, long generation) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) phase.code).putInt(volumeId).putLong(generation);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 20);
        b.putInt((int) crc.getValue());
        Directories.writeAtomically(markerPath(dir, volumeId), b.array());
    }

    /** Reads the phase; null when there is no marker or it is unreadable (both mean roll back). */
    public static Phase read(Path dir, int volumeId) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(markerPath(dir, volumeId));
        } catch (NoSuchFileException e) {
            return null;
        }
        if (bytes.length != 24) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 20);
        if (b.getInt(0) != MAGIC || b.getShort(4) != VERSION || b.getInt(8) != volumeId
                || b.getInt(20) != (int) crc.getValue()) {
            return null;
        }
        int code = b.getShort(6);
        return code == Phase.COMMITTING.code ? Phase.COMMITTING : code == Phase.COPYING.code ? Phase.COPYING : null;
    }

    /**
     * Finishes or undoes an interrupted compaction of the volume. Returns what it did, or null
     * when there was nothing to do.
     */
    public static Phase recover(Path dir, int volumeId, Path datPath, Path idxPath) throws IOException {
        Path marker = markerPath(dir, volumeId);
        Path cpd = newDataPath(dir, volumeId);
        Path cpx = newIndexPath(dir, volumeId);
        Path markerTmp = marker.resolveSibling(marker.getFileName() + ".tmp");
        boolean anything = Files.exists(marker) || Files.exists(cpd) || Files.exists(cpx) || Files.exists(markerTmp);
        if (!anything) {
            return null;
        }
        Phase phase = read(dir, volumeId);
        if (phase == Phase.COMMITTING) {
            if (Files.exists(cpd)) {
                Directories.rename(cpd, datPath);
            }
            if (Files.exists(cpx)) {
                Directories.rename(cpx, idxPath);
            }
        } else {
            Files.deleteIfExists(cpd);
            Files.deleteIfExists(cpx);
            phase = Phase.COPYING;
        }
        Directories.fsync(dir);
        Files.deleteIfExists(marker);
        Files.deleteIfExists(markerTmp);
        Directories.fsync(dir);
        return phase;
    }

    /** Removes the marker at the end of a successful compaction. */
    public static void remove(Path dir, int volumeId) throws IOException {
        Files.deleteIfExists(markerPath(dir, volumeId));
        Directories.fsync(dir);
    }
}
