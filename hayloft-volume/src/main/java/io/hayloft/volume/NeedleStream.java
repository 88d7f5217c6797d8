package io.hayloft.volume;

import io.hayloft.volume.format.NeedleFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Reads one needle's data in bounded pieces; returned by {@link Volume#openStream}.
 *
 * <p>{@link #verifyWhole()} checks the data CRC in a first pass before the stream is handed out;
 * the second pass, which feeds the reader, computes it again and fails at the end if the disk
 * changed in between. The stream holds a reference on its generation of files, so a compaction
 * that finishes meanwhile does not close them under it.
 */
public final class NeedleStream extends InputStream {
    private final Generation generation;
    private final long dataStart;
    private final int length;
    private final ByteBuffer piece;
    private final long needleId;
    private final int volumeId;
    private final CRC32C crc = new CRC32C();
    private int expectedCrc;
    private long done;
    private boolean closed;

    NeedleStream(Generation generation, long recordOffset, int length, int pieceBytes, long needleId, int volumeId) {
        this.generation = generation;
        this.dataStart = recordOffset + NeedleFormat.HEADER_BYTES;
        this.length = length;
        this.piece = ByteBuffer.allocate(Math.max(1, Math.min(pieceBytes, length)));
        this.piece.limit(0);
        this.needleId = needleId;
        this.volumeId = volumeId;
    }

    /** First pass: the data CRC and the padding must match before any byte is returned. */
    void verifyWhole() throws IOException {
        ByteBuffer footer = ByteBuffer.allocate((int) (NeedleFormat.recordBytes(length) - NeedleFormat.HEADER_BYTES - length));
        generation.dat.readFully(footer, dataStart + length);
        expectedCrc = footer.getInt(0);
        if (!NeedleFormat.paddingIsZero(footer, NeedleFormat.FOOTER_BYTES, footer.capacity())) {
            throw corrupt("padding is not zero");
        }
        CRC32C first = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(piece.capacity());
        for (long at = 0; at < length; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), length - at));
            generation.dat.readFully(buf, dataStart + at);
            first.update(buf.flip());
            at += buf.limit();
        }
        if ((int) first.getValue() != expectedCrc) {
            throw corrupt("data checksum mismatch");
        }
    }

    /** The needle's data length in bytes. */
    public int length() {
        return length;
    }

    /** The needle's data CRC32C, as stored and checked. */
    public int crc32c() {
        return expectedCrc;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        if (!piece.hasRemaining()) {
            if (done == length) {
                return -1;
            }
            fill();
        }
        int n = Math.min(len, piece.remaining());
        piece.get(b, off, n);
        return n;
    }

    @Override
    public int available() {
        return piece.remaining();
    }

    private void fill() throws IOException {
        piece.clear().limit((int) Math.min(piece.capacity(), length - done));
        generation.dat.readFully(piece, dataStart + done);
        piece.flip();
        crc.update(piece.duplicate());
        done += piece.limit();
        if (done == length && (int) crc.getValue() != expectedCrc) {
            piece.limit(0);
            throw corrupt("data changed on disk while it was read");
        }
    }

    private VolumeException corrupt(String why) {
        return new VolumeException(VolumeErrorCode.CORRUPT, "needle " + needleId + " in volume " + volumeId + ": " + why);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            generation.release();
        }
    }
}
