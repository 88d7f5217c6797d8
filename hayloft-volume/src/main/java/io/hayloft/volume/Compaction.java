package io.hayloft.volume;

import io.hayloft.volume.compaction.CompactionMarker;
import io.hayloft.volume.compaction.CompactionMarker.Phase;
import io.hayloft.volume.format.IndexFileFormat;
import io.hayloft.volume.format.IndexValue;
import io.hayloft.volume.format.NeedleFormat;
import io.hayloft.volume.format.Superblock;
import io.hayloft.volume.index.NeedleIndex;
import io.hayloft.volume.io.Directories;
import io.hayloft.volume.io.VolumeFile;
import io.hayloft.volume.scan.RecordScanner;
import io.hayloft.volume.scan.ScannedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One compaction of a volume: copies the newest record of every needle (tombstones included, so
 * that deletes still reach lagging replicas) into a new generation of files and swaps it in.
 *
 * <p>Implementation notes. Phase 1 copies the records below the durable position taken at the
 * start, with no lock held, while reads and appends go on. Phase 2 holds the write and sync locks:
 * it makes the old file durable and indexed, copies the records appended during phase 1, fsyncs
 * the new files and the directory, and commits through the {@link CompactionMarker} phases.
 * Records are copied byte for byte (the salt stays), so their sequence numbers and CRCs stay
 * valid. The failpoints name each step, for crash tests.
 */
final class Compaction {
    private static final Logger log = LoggerFactory.getLogger(Compaction.class);

    private final Volume volume;
    private final VolumeConfig config;
    private final Failpoints failpoints;
    private final Path dir;
    private final int volumeId;
    private final NeedleIndex newIndex = new NeedleIndex();
    private final ByteBuffer copyBuffer;
    private final ByteBuffer idxOut = ByteBuffer.allocate(1 << 16);
    private VolumeFile cpd;
    private VolumeFile cpx;
    private long newPos = NeedleFormat.SUPERBLOCK_BYTES;
    private long idxPos = IndexFileFormat.HEADER_BYTES;
    private boolean committing;

    Compaction(Volume volume, VolumeConfig config, Failpoints failpoints) {
        this.volume = volume;
        this.config = config;
        this.failpoints = failpoints;
        this.dir = volume.directory();
        this.volumeId = volume.id();
        this.copyBuffer = ByteBuffer.allocate(config.readPieceBytes());
    }

    void run() throws IOException {
        Generation old = volume.gen;
        Superblock sb = old.superblock;
        long generation = sb.generation() + 1;
        long snapshot = old.durablePos;
        Path cpdPath = CompactionMarker.newDataPath(dir, volumeId);
        Path cpxPath = CompactionMarker.newIndexPath(dir, volumeId);
        try {
            CompactionMarker.write(dir, volumeId, Phase.COPYING, generation);
            Files.deleteIfExists(cpdPath);
            Files.deleteIfExists(cpxPath);
            cpd = VolumeFile.create(cpdPath);
            cpx = VolumeFile.create(cpxPath);
            cpx.writeFully(IndexFileFormat.encodeHeader(volumeId, sb.salt(), generation), 0);
            failpoints.hit("compaction.started");
            copyNewest(old, NeedleFormat.SUPERBLOCK_BYTES, snapshot);
            failpoints.hit("compaction.copied");
            finish(old, sb, generation, snapshot, cpdPath, cpxPath);
        } catch (IOException | RuntimeException e) {
            if (committing) {
                volume.markFailed(e instanceof IOException io ? io : new IOException(e));
                log.error("volume {}: compaction failed after commit; reopen the volume to finish it", volumeId, e);
            } else {
                abandon(cpdPath, cpxPath);
            }
            throw e;
        }
    }

    private void finish(Generation old, Superblock sb, long generation, long snapshot, Path cpdPath, Path cpxPath)
            throws IOException {
        volume.writeLock.lock();
        volume.syncLock.lock();
        try {
            if (volume.isClosed() || volume.gen != old) {
                throw new VolumeException(VolumeErrorCode.CLOSED, "volume " + volumeId + " closed during compaction");
            }
            long written = old.writtenPos;
            if (written > old.durablePos) {
                if (config.fsync()) {
                    try {
                        old.dat.force();
                    } catch (IOException e) {
                        // After a failed fsync the kernel may have dropped the pages: fail the volume.
                        volume.markFailed(e);
                        throw e;
                    }
                }
                old.publish(written);
            }
            copyNewest(old, snapshot, written);
            flushIndexEntries();
            Superblock next = new Superblock(old.superblock.flags(), volumeId, sb.salt(), generation, volume.lastSequence);
            cpd.writeFully(next.encode(), 0);
            cpd.force();
            cpx.force();
            Directories.fsync(dir);
            failpoints.hit("compaction.synced");
            committing = true;
            CompactionMarker.write(dir, volumeId, Phase.COMMITTING, generation);
            failpoints.hit("compaction.committing");
            // From here on the old files' paths name the new files: they must not reopen them.
            old.dat.forbidReopen();
            old.idx.forbidReopen();
            Directories.rename(cpdPath, VolumeLoader.datPath(dir, volumeId));
            cpd.movedTo(VolumeLoader.datPath(dir, volumeId));
            failpoints.hit("compaction.renamed-data");
            Directories.rename(cpxPath, VolumeLoader.idxPath(dir, volumeId));
            cpx.movedTo(VolumeLoader.idxPath(dir, volumeId));
            Directories.fsync(dir);
            failpoints.hit("compaction.renamed-index");
            CompactionMarker.remove(dir, volumeId);
            Generation fresh = new Generation(next, cpd, cpx, newIndex, newPos, idxPos);
            fresh.countAll();
            volume.gen = fresh;
            old.retire();
            log.info("volume {}: compacted {} bytes to {}", volumeId, written, newPos);
        } finally {
            volume.syncLock.unlock();
            volume.writeLock.unlock();
        }
    }

    /**
     * Copies the records in [from, to) that are the newest of their needle in the old index, in
     * file order; needles whose newest record is damaged are copied where the damage was found.
     */
    private void copyNewest(Generation old, long from, long to) throws IOException {
        RecordScanner scanner = new RecordScanner(old.dat, old.superblock.salt(), from, to, config.readPieceBytes(), false);
        int rangesSeen = 0;
        ScannedRecord r;
        while ((r = scanner.next()) != null) {
            List<long[]> ranges = scanner.damagedRanges();
            if (ranges.size() > rangesSeen) {
                copyDamaged(old, List.copyOf(ranges.subList(rangesSeen, ranges.size())), to);
                rangesSeen = ranges.size();
            }
            long needleId = r.header().needleId();
            if (IndexValue.offset(old.lookup(needleId)) != r.offset()) {
                continue;
            }
            old.dat.copyTo(r.offset(), r.length(), cpd, newPos, copyBuffer);
            long value = r.header().tombstone()
                    ? IndexValue.tombstone(newPos)
                    : IndexValue.live(newPos, r.header().dataLength());
            newIndex.put(needleId, value);
            if (idxOut.remaining() < IndexFileFormat.ENTRY_BYTES) {
                flushIndexEntries();
            }
            IndexFileFormat.putEntry(idxOut, needleId, value);
            newPos += r.length();
        }
        if (scanner.validEnd() < to) {
            copyDamaged(old, List.of(new long[] {scanner.validEnd(), to}), to);
        }
    }

    /**
     * Keeps the needles whose newest record lies in a damaged range, bytes as they are: they
     * still read as CORRUPT and scrub still lists them for repair, instead of vanishing.
     */
    private void copyDamaged(Generation old, List<long[]> ranges, long to) throws IOException {
        List<long[]> victims = old.entriesIn(ranges);
        if (victims.isEmpty()) {
            return;
        }
        for (long[] victim : victims) {
            long offset = IndexValue.offset(victim[1]);
            long length = Math.min(IndexValue.recordBytes(victim[1]), to - offset);
            old.dat.copyTo(offset, length, cpd, newPos, copyBuffer);
            long value = IndexValue.isTombstone(victim[1])
                    ? IndexValue.tombstone(newPos)
                    : IndexValue.live(newPos, IndexValue.dataLength(victim[1]));
            newIndex.put(victim[0], value);
            if (idxOut.remaining() < IndexFileFormat.ENTRY_BYTES) {
                flushIndexEntries();
            }
            IndexFileFormat.putEntry(idxOut, victim[0], value);
            newPos = NeedleFormat.align(newPos + IndexValue.recordBytes(victim[1]));
        }
        log.warn("volume {}: compaction kept {} damaged needles for repair", volumeId, victims.size());
    }

    private void flushIndexEntries() throws IOException {
        idxOut.flip();
        int n = idxOut.remaining();
        if (n > 0) {
            cpx.writeFully(idxOut, idxPos);
            idxPos += n;
        }
        idxOut.clear();
    }

    private void abandon(Path cpdPath, Path cpxPath) {
        try {
            if (cpd != null) {
                cpd.close();
            }
            if (cpx != null) {
                cpx.close();
            }
            Files.deleteIfExists(cpdPath);
            Files.deleteIfExists(cpxPath);
            CompactionMarker.remove(dir, volumeId);
        } catch (IOException e) {
            log.warn("volume {}: could not clean up an abandoned compaction; the next open will", volumeId, e);
        }
    }
}
