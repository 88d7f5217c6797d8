package io.hayloft.volume;

import io.hayloft.volume.compaction.CompactionMarker;
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
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a volume's files and brings them to a consistent state after whatever happened before:
 * an interrupted compaction, a torn tail, a lagging, torn or missing index file.
 *
 * <p>Steps: finish or undo an interrupted compaction ({@link CompactionMarker}); check the
 * superblock; load the {@code .idx} entries up to the first one that does not fit the
 * {@code .dat} file (entries past its end, out of order, or for another generation are dropped);
 * scan the {@code .dat} file after the last indexed record, adding every valid record to the
 * index; cut the {@code .dat} file after the last record whose data checks out, since anything
 * later was never acknowledged (a torn record, or zeros a running volume writes ahead of its
 * records); fsync what changed.
 */
final class VolumeLoader {
    private static final Logger log = LoggerFactory.getLogger(VolumeLoader.class);

    private VolumeLoader() {}

    record Loaded(Generation generation, long lastSequence) {}

    static Path datPath(Path dir, int volumeId) {
        return dir.resolve(volumeId + ".dat");
    }

    static Path idxPath(Path dir, int volumeId) {
        return dir.resolve(volumeId + ".idx");
    }

    static Loaded load(Path dir, int volumeId, VolumeConfig config) throws IOException {
        Path datPath = datPath(dir, volumeId);
        Path idxPath = idxPath(dir, volumeId);
        CompactionMarker.Phase recovered = CompactionMarker.recover(dir, volumeId, datPath, idxPath);
        if (recovered != null) {
            log.warn("volume {}: interrupted compaction rolled {}", volumeId,
                    recovered == CompactionMarker.Phase.COMMITTING ? "forward" : "back");
        }
        if (!Files.exists(datPath)) {
            throw new VolumeException(VolumeErrorCode.NO_SUCH_VOLUME, "no file " + datPath);
        }
        VolumeFile dat = VolumeFile.open(datPath);
        VolumeFile idx = null;
        try {
            Superblock sb = readSuperblock(dat, volumeId);
            if (!Files.exists(idxPath)) {
                Files.createFile(idxPath);
            }
            idx = VolumeFile.open(idxPath);
            Loader loader = new Loader(config, dat, idx, sb);
            Generation g = loader.run();
            return new Loaded(g, Math.max(sb.sequenceFloor(), loader.lastSequence));
        } catch (IOException | RuntimeException e) {
            dat.close();
            if (idx != null) {
                idx.close();
            }
            throw e;
        }
    }

    private static Superblock readSuperblock(VolumeFile dat, int volumeId) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Superblock.BYTES);
        int n = dat.readUpTo(b, 0);
        Superblock sb = n == Superblock.BYTES ? Superblock.decode(b.flip()) : null;
        if (sb == null) {
            throw new VolumeException(VolumeErrorCode.CORRUPT, dat.path() + ": superblock unreadable");
        }
        if (sb.volumeId() != volumeId) {
            throw new VolumeException(VolumeErrorCode.CORRUPT,
                    dat.path() + ": superblock names volume " + sb.volumeId());
        }
        return sb;
    }

    /** The state of one load. */
    private static final class Loader {
        private final VolumeConfig config;
        private final VolumeFile dat;
        private final VolumeFile idx;
        private final Superblock sb;
        private final NeedleIndex index = new NeedleIndex();
        private long datLen;
        private long idxEnd = IndexFileFormat.HEADER_BYTES;
        private long indexedEnd = NeedleFormat.SUPERBLOCK_BYTES;
        private long lastRecordOffset = -1;
        private long lastSequence;
        private final ByteBuffer idxOut = ByteBuffer.allocate(1 << 16);
        private boolean changed;

        Loader(VolumeConfig config, VolumeFile dat, VolumeFile idx, Superblock sb) {
            this.config = config;
            this.dat = dat;
            this.idx = idx;
            this.sb = sb;
        }

        Generation run() throws IOException {
            datLen = dat.size();
            long entries = (idx.size() - IndexFileFormat.HEADER_BYTES) / IndexFileFormat.ENTRY_BYTES;
            long recordsMax = datLen / NeedleFormat.recordBytes(0) + 1;
            index.startBulkLoad((int) Math.max(0, Math.min(Math.min(entries, recordsMax) + 1024, Integer.MAX_VALUE - 16)));
            if (!loadIndexFile() || !lastIndexedRecordChecks()) {
                rebuildFromScratch();
            }
            scanTail();
            index.finishBulkLoad();
            if (changed) {
                dat.force();
                idx.force();
            }
            Generation g = new Generation(sb, dat, idx, index, indexedEnd, idxEnd);
            g.countAll();
            return g;
        }

        /** Loads the valid prefix of the index file; false when its header does not match. */
        private boolean loadIndexFile() throws IOException {
            long len = idx.size();
            ByteBuffer header = ByteBuffer.allocate(IndexFileFormat.HEADER_BYTES);
            int n = idx.readUpTo(header, 0);
            if (n < IndexFileFormat.HEADER_BYTES || !IndexFileFormat.headerMatches(header.flip(), sb)) {
                return false;
            }
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            long pos = IndexFileFormat.HEADER_BYTES;
            long full = IndexFileFormat.HEADER_BYTES + (len - IndexFileFormat.HEADER_BYTES) / IndexFileFormat.ENTRY_BYTES
                    * IndexFileFormat.ENTRY_BYTES;
            while (pos < full) {
                buf.clear().limit((int) Math.min(buf.capacity(), full - pos));
                idx.readFully(buf, pos);
                buf.flip();
                while (buf.hasRemaining()) {
                    long needleId = buf.getLong();
                    long value = buf.getLong();
                    long offset = IndexValue.offset(value);
                    if (value == IndexValue.ABSENT || offset < indexedEnd
                            || offset + IndexValue.recordBytes(value) > datLen) {
                        dropIndexTail(pos, len);
                        return true;
                    }
                    if (offset > indexedEnd && !gapIsDamage(indexedEnd, offset, needleId, value)) {
                        log.warn("{}: index entry {} skips records of the data file", idx.path(),
                                (pos - IndexFileFormat.HEADER_BYTES) / IndexFileFormat.ENTRY_BYTES);
                        return false;
                    }
                    index.put(needleId, value);
                    indexedEnd = offset + IndexValue.recordBytes(value);
                    lastRecordOffset = offset;
                    pos += IndexFileFormat.ENTRY_BYTES;
                    idxEnd = pos;
                }
            }
            if (full != len) {
                dropIndexTail(full, len);
            }
            return true;
        }

        /**
         * Whether a gap between two indexed records is a damaged range that a rebuild skipped,
         * as it should be, rather than a damaged index entry that jumps over good records: the
         * first valid record after the gap's start must be the one the entry names.
         */
        private boolean gapIsDamage(long from, long offset, long needleId, long value) throws IOException {
            RecordScanner scanner = new RecordScanner(dat, sb.salt(), from, offset + IndexValue.recordBytes(value),
                    config.readPieceBytes(), false);
            ScannedRecord r = scanner.next();
            return r != null && r.offset() == offset && r.header().needleId() == needleId
                    && r.length() == IndexValue.recordBytes(value);
        }

        private void dropIndexTail(long at, long len) throws IOException {
            log.warn("{}: dropping {} bytes of index entries that do not match the data file", idx.path(), len - at);
            idx.truncate(at);
            changed = true;
        }

        /** Whether the record of the last loaded index entry is really there. */
        private boolean lastIndexedRecordChecks() throws IOException {
            if (lastRecordOffset < 0) {
                return true;
            }
            RecordScanner one = new RecordScanner(dat, sb.salt(), lastRecordOffset, indexedEnd, 4096, false);
            ScannedRecord r = one.next();
            if (r != null && r.offset() == lastRecordOffset && r.end() == indexedEnd) {
                lastSequence = r.footer().sequence();
                return true;
            }
            log.warn("{}: last index entry does not match the data file; rebuilding the index", idx.path());
            return false;
        }

        private void rebuildFromScratch() throws IOException {
            log.warn("{}: rebuilding the index from the data file", idx.path());
            idx.truncate(0);
            idx.writeFully(IndexFileFormat.encodeHeader(sb.volumeId(), sb.salt(), sb.generation()), 0);
            idxEnd = IndexFileFormat.HEADER_BYTES;
            indexedEnd = NeedleFormat.SUPERBLOCK_BYTES;
            lastRecordOffset = -1;
            lastSequence = 0;
            index.clear();
            index.startBulkLoad(1024);
            changed = true;
        }

        /**
         * Indexes the valid records after the last indexed one. Records whose data fails its CRC
         * are kept (and reported as corrupt) only when a good record follows them: at the tail
         * they are a torn write that was never acknowledged, and are cut with it.
         */
        private void scanTail() throws IOException {
            if (indexedEnd >= datLen) {
                return;
            }
            RecordScanner scanner = new RecordScanner(dat, sb.salt(), indexedEnd, datLen, config.readPieceBytes(), true);
            List<ScannedRecord> suspect = new ArrayList<>();
            ScannedRecord r;
            int added = 0;
            while ((r = scanner.next()) != null) {
                if (!r.dataOk()) {
                    suspect.add(r);
                    continue;
                }
                for (ScannedRecord s : suspect) {
                    add(s);
                }
                added += suspect.size() + 1;
                suspect.clear();
                add(r);
            }
            flushIndexEntries();
            if (!scanner.damagedRanges().isEmpty()) {
                log.warn("{}: skipped {} damaged ranges", dat.path(), scanner.damagedRanges().size());
            }
            if (added > 0) {
                log.info("{}: indexed {} records missing from the index file", dat.path(), added);
                changed = true;
            }
            if (indexedEnd < datLen) {
                if (allZeros(indexedEnd, datLen)) {
                    log.info("{}: cutting {} bytes of zeros written ahead of the records at {}", dat.path(),
                            datLen - indexedEnd, indexedEnd);
                } else {
                    log.warn("{}: cutting a torn tail of {} bytes at {}", dat.path(), datLen - indexedEnd, indexedEnd);
                }
                dat.truncate(indexedEnd);
                datLen = indexedEnd;
                changed = true;
            }
        }

        /** Whether [from, to) of the data file holds only zeros: space written ahead, not a torn record. */
        private boolean allZeros(long from, long to) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(1 << 16, to - from));
            for (long pos = from; pos < to; ) {
                buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
                int n = dat.readUpTo(buf, pos);
                for (int i = 0; i < n; i++) {
                    if (buf.get(i) != 0) {
                        return false;
                    }
                }
                if (n == 0) {
                    return true;
                }
                pos += n;
            }
            return true;
        }

        private void add(ScannedRecord r) throws IOException {
            long value = r.header().tombstone()
                    ? IndexValue.tombstone(r.offset())
                    : IndexValue.live(r.offset(), r.header().dataLength());
            index.put(r.header().needleId(), value);
            if (idxOut.remaining() < IndexFileFormat.ENTRY_BYTES) {
                flushIndexEntries();
            }
            IndexFileFormat.putEntry(idxOut, r.header().needleId(), value);
            indexedEnd = r.end();
            lastRecordOffset = r.offset();
            lastSequence = r.footer().sequence();
        }

        private void flushIndexEntries() throws IOException {
            idxOut.flip();
            int n = idxOut.remaining();
            if (n > 0) {
                idx.writeFully(idxOut, idxEnd);
                idxEnd += n;
            }
            idxOut.clear();
        }
    }

    /** Creates the files of a new, empty volume; fails when they exist. */
    static void create(Path dir, int volumeId, long salt) throws IOException {
        Path datPath = datPath(dir, volumeId);
        if (Files.exists(datPath)) {
            throw new VolumeException(VolumeErrorCode.VOLUME_EXISTS, "volume " + volumeId + " exists in " + dir);
        }
        Superblock sb = new Superblock(0, volumeId, salt, 0, 0);
        Path tmp = dir.resolve(volumeId + ".dat.new");
        Files.deleteIfExists(tmp);
        try (VolumeFile f = VolumeFile.create(tmp)) {
            f.writeFully(sb.encode(), 0);
            f.force();
        }
        Path idxPath = idxPath(dir, volumeId);
        Files.deleteIfExists(idxPath);
        try (VolumeFile f = VolumeFile.create(idxPath)) {
            f.writeFully(IndexFileFormat.encodeHeader(volumeId, salt, 0), 0);
            f.force();
        }
        Directories.rename(tmp, datPath);
        Directories.fsync(dir);
    }
}
