package io.hayloft.volume.scan;

import io.hayloft.volume.format.NeedleFormat;
import io.hayloft.volume.format.NeedleFormat.NeedleFooter;
import io.hayloft.volume.format.NeedleFormat.NeedleHeader;
import io.hayloft.volume.io.VolumeFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the records of a {@code .dat} file in order, from a start offset to an end offset, with
 * a bounded buffer.
 *
 * <p>Implementation notes. A record is accepted when its header parses and its record CRC (which
 * is seeded with the volume's salt) matches; its data CRC is checked when asked. When the bytes
 * at the current position are not a record, the scanner resynchronises: it looks at every later
 * 8-byte boundary for the next valid record and reports the skipped range as damaged. When no
 * valid record follows, the scan ends there: {@link #validEnd()} is then the end of the last good
 * record, which is where a torn tail left by a crash gets cut.
 */
public final class RecordScanner {
    private final VolumeFile file;
    private final long salt;
    private final long end;
    private final boolean checkData;
    private final ByteBuffer buf;
    private long bufStart;
    private int bufLen;
    private long pos;
    private long validEnd;
    private final List<long[]> damaged = new ArrayList<>();

    public RecordScanner(VolumeFile file, long salt, long start, long end, int bufferBytes, boolean checkData) {
        this.file = file;
        this.salt = salt;
        this.end = end;
        this.checkData = checkData;
        this.buf = ByteBuffer.allocate(Math.max(bufferBytes, 4096));
        this.pos = start;
        this.validEnd = start;
        this.bufStart = start;
        this.bufLen = 0;
    }

    /** The next record, or null at the end of the range or of the valid records. */
    public ScannedRecord next() throws IOException {
        ScannedRecord r = recordAt(pos);
        if (r != null) {
            pos = r.end();
            validEnd = pos;
            return r;
        }
        for (long q = pos + NeedleFormat.ALIGNMENT; q + NeedleFormat.OVERHEAD_BYTES <= end; q += NeedleFormat.ALIGNMENT) {
            r = recordAt(q);
            if (r != null) {
                damaged.add(new long[] {pos, q});
                pos = r.end();
                validEnd = pos;
                return r;
            }
        }
        return null;
    }

    /** The end of the last valid record returned (or the start offset when none was). */
    public long validEnd() {
        return validEnd;
    }

    /** Ranges [from, to) that were skipped because they held no valid record, followed by one that did. */
    public List<long[]> damagedRanges() {
        return damaged;
    }

    private ScannedRecord recordAt(long at) throws IOException {
        if (at + NeedleFormat.OVERHEAD_BYTES > end) {
            return null;
        }
        if (!load(at, NeedleFormat.HEADER_BYTES)) {
            return null;
        }
        int hi = (int) (at - bufStart);
        if (buf.getInt(hi) != NeedleFormat.MAGIC) {
            return null;
        }
        NeedleHeader header = NeedleFormat.parseHeader(buf, hi);
        if (header == null) {
            return null;
        }
        long length = NeedleFormat.recordBytes(header.dataLength());
        if (at + length > end) {
            return null;
        }
        long footerAt = at + NeedleFormat.HEADER_BYTES + header.dataLength();
        int tail = (int) (at + length - footerAt);
        ByteBuffer headerBytes = ByteBuffer.allocate(NeedleFormat.HEADER_BYTES);
        headerBytes.put(0, buf, hi, NeedleFormat.HEADER_BYTES);
        if (!load(footerAt, tail)) {
            return null;
        }
        int fi = (int) (footerAt - bufStart);
        ByteBuffer footerBytes = ByteBuffer.allocate(NeedleFormat.HEADER_BYTES + tail);
        footerBytes.put(0, headerBytes, 0, NeedleFormat.HEADER_BYTES);
        footerBytes.put(NeedleFormat.HEADER_BYTES, buf, fi, tail);
        NeedleFooter footer = NeedleFormat.checkFooter(footerBytes, 0, NeedleFormat.HEADER_BYTES, salt);
        if (footer == null) {
            return null;
        }
        boolean ok = true;
        if (checkData) {
            ok = NeedleFormat.paddingIsZero(footerBytes, NeedleFormat.HEADER_BYTES + NeedleFormat.FOOTER_BYTES,
                    NeedleFormat.HEADER_BYTES + tail)
                    && dataCrc(at + NeedleFormat.HEADER_BYTES, header.dataLength()) == footer.dataCrc();
        }
        return new ScannedRecord(at, length, header, footer, ok);
    }

    private int dataCrc(long from, int length) throws IOException {
        CRC32C crc = new CRC32C();
        long p = from;
        long remaining = length;
        while (remaining > 0) {
            int n = (int) Math.min(remaining, buf.capacity());
            if (!load(p, n)) {
                throw new IOException("file shrank while scanning at " + p);
            }
            int i = (int) (p - bufStart);
            crc.update(buf.duplicate().limit(i + n).position(i));
            p += n;
            remaining -= n;
        }
        return (int) crc.getValue();
    }

    /** Makes [at, at+n) present in the buffer; false when the file ends before. */
    private boolean load(long at, int n) throws IOException {
        if (at >= bufStart && at + n <= bufStart + bufLen) {
            return true;
        }
        buf.clear();
        long want = Math.min(buf.capacity(), end - at);
        if (want < n) {
            return false;
        }
        buf.limit((int) want);
        int read = file.readUpTo(buf, at);
        bufStart = at;
        bufLen = read;
        return read >= n;
    }
}
