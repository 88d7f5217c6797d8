package io.hayloft.volume;

import io.hayloft.volume.format.IndexFileFormat;
import io.hayloft.volume.format.IndexValue;
import io.hayloft.volume.format.NeedleFormat;
import io.hayloft.volume.scan.RecordScanner;
import io.hayloft.volume.scan.ScannedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the records after a sequence number, for a replica that missed them.
 *
 * <p>Sequence numbers rise with the offset in the {@code .dat} file, and the {@code .idx} file
 * has one fixed-size entry per record in the same order, so the first record after a sequence is
 * found by a binary search over the index entries that reads the footer of about log2(n) records.
 * When anything on the way does not check out, the search falls back to scanning from the start.
 */
final class CatchUp {
    private static final Logger log = LoggerFactory.getLogger(CatchUp.class);

    private CatchUp() {}

    static List<ReplicatedNeedle> recordsAfter(Generation g, long afterSequence, long maxBytes, int pieceBytes,
            int volumeId) throws IOException {
        long durable = g.durablePos;
        long salt = g.superblock.salt();
        long start = firstOffsetAfter(g, afterSequence, durable, salt);
        RecordScanner scanner = new RecordScanner(g.dat, salt, start, durable, pieceBytes, false);
        List<ReplicatedNeedle> out = new ArrayList<>();
        long bytes = 0;
        ScannedRecord r;
        boolean cut = false;
        int rangesBefore = 0;
        while ((r = scanner.next()) != null) {
            long sequence = r.footer().sequence();
            if (sequence <= afterSequence + 1) {
                // Sequences rise with offsets: what damage before this record held had lower
                // sequences, which the replica has.
                rangesBefore = scanner.damagedRanges().size();
            }
            if (sequence <= afterSequence) {
                continue;
            }
            int length = r.header().dataLength();
            ByteBuffer data = ByteBuffer.allocate(length);
            g.dat.readFully(data, r.offset() + NeedleFormat.HEADER_BYTES);
            data.flip();
            if (NeedleFormat.dataCrc(data) != r.footer().dataCrc()) {
                if (IndexValue.offset(g.lookup(r.header().needleId())) != r.offset()) {
                    continue; // superseded: its replacement, later in the file, is what the replica needs
                }
                throw VolumeException.damaged(r.header().needleId(), "needle " + r.header().needleId()
                        + " in volume " + volumeId + " is damaged; repair it before catch-up");
            }
            out.add(new ReplicatedNeedle(r.header().needleId(), r.header().cookie(), r.header().tombstone(), sequence,
                    data));
            bytes += length + NeedleFormat.OVERHEAD_BYTES;
            if (bytes >= maxBytes) {
                cut = true;
                break;
            }
        }
        List<long[]> all = scanner.damagedRanges();
        List<long[]> damaged = new ArrayList<>(all.subList(rangesBefore, all.size()));
        if (!cut && scanner.validEnd() < durable) {
            damaged.add(new long[] {scanner.validEnd(), durable});
        }
        if (!damaged.isEmpty()) {
            checkNoNewestRecordIn(g, damaged, volumeId);
        }
        return out;
    }

    /**
     * A scan skips bytes that do not read as records. When a live needle's newest record lay
     * there, the replica would go without the needle, so the catch-up is refused until the record
     * is repaired. A tombstone there is passed over, with a warning: the replica keeps a needle
     * nothing names any more, which the orphan audit deletes again. Bytes that held only
     * superseded records are passed over.
     */
    private static void checkNoNewestRecordIn(Generation g, List<long[]> damaged, int volumeId)
            throws VolumeException {
        int tombstones = 0;
        for (long[] entry : g.entriesIn(damaged)) {
            if (!IndexValue.isTombstone(entry[1])) {
                throw VolumeException.damaged(entry[0], "the newest record of needle " + entry[0] + " in volume "
                        + volumeId + " (offset " + IndexValue.offset(entry[1]) + ") is damaged; repair it before catch-up");
            }
            tombstones++;
        }
        if (tombstones > 0) {
            log.warn("volume {}: a catch-up passes over {} damaged tombstone(s); the orphan audit deletes their "
                    + "needles again", volumeId, tombstones);
        }
    }

    /**
     * The durable record with exactly this sequence, or null when there is none (never written
     * here, beyond the last durable one, or compacted away).
     */
    static RecordSummary recordAt(Generation g, long sequence, int pieceBytes) throws IOException {
        long durable = g.durablePos;
        long salt = g.superblock.salt();
        long start = firstOffsetAfter(g, sequence - 1, durable, salt);
        RecordScanner scanner = new RecordScanner(g.dat, salt, start, durable, pieceBytes, false);
        ScannedRecord r;
        while ((r = scanner.next()) != null) {
            long found = r.footer().sequence();
            if (found == sequence) {
                return new RecordSummary(r.header().needleId(), r.header().cookie(), r.header().tombstone(),
                        r.header().dataLength(), r.footer().dataCrc(), found);
            }
            if (found > sequence) {
                return null;
            }
        }
        return null;
    }

    private static long firstOffsetAfter(Generation g, long afterSequence, long durable, long salt) throws IOException {
        long entries = (g.idxWrittenPos - IndexFileFormat.HEADER_BYTES) / IndexFileFormat.ENTRY_BYTES;
        long lo = 0;
        long hi = entries;
        ByteBuffer entry = ByteBuffer.allocate(IndexFileFormat.ENTRY_BYTES);
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            entry.clear();
            g.idx.readFully(entry, IndexFileFormat.HEADER_BYTES + mid * IndexFileFormat.ENTRY_BYTES);
            long value = entry.getLong(8);
            long offset = IndexValue.offset(value);
            long sequence;
            if (offset >= durable) {
                sequence = Long.MAX_VALUE;
            } else {
                RecordScanner one = new RecordScanner(g.dat, salt, offset, offset + IndexValue.recordBytes(value), 4096, false);
                ScannedRecord r = one.next();
                if (r == null || r.offset() != offset || r.header().needleId() != entry.getLong(0)) {
                    return NeedleFormat.SUPERBLOCK_BYTES;
                }
                sequence = r.footer().sequence();
            }
            if (sequence > afterSequence) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if (lo == entries) {
            return Math.min(durable, g.writtenPos);
        }
        entry.clear();
        g.idx.readFully(entry, IndexFileFormat.HEADER_BYTES + lo * IndexFileFormat.ENTRY_BYTES);
        return Math.min(IndexValue.offset(entry.getLong(8)), durable);
    }
}
