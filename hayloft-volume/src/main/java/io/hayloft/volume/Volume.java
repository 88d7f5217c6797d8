package io.hayloft.volume;

import io.hayloft.volume.format.IndexFileFormat;
import io.hayloft.volume.format.IndexValue;
import io.hayloft.volume.format.NeedleFormat;
import io.hayloft.volume.format.NeedleFormat.NeedleHeader;
import io.hayloft.volume.format.Superblock;
import io.hayloft.volume.io.VolumeFile;
import io.hayloft.volume.scan.RecordScanner;
import io.hayloft.volume.scan.ScannedRecord;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A needle volume: an append-only {@code .dat} file of needle records, its {@code .idx} file and
 * an in-memory index, with reads, appends, deletes, replica catch-up, sealing and compaction.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>Writes: one writer at a time ({@code writeLock}) appends records with positional writes,
 *       then their index entries. Small records (up to 256 KiB) are queued and written in batches
 *       by {@link GroupCommit}; large and streamed ones are written directly, piece by piece. Then
 *       {@link #awaitDurable} fsyncs everything written so far and publishes those records to the
 *       index, so one fsync covers every append written while the previous one ran. An append
 *       returns only after its record is fsynced (unless {@link VolumeConfig#fsync()} is off). A
 *       failed fsync fails the volume for writes until it is reopened, because after a failed
 *       fsync the kernel may have dropped the dirty pages.
 *   <li>Replicated records keep the primary's sequence numbers, so they must reach the files in
 *       sequence order. A large one lets the group commit queue ahead of it be written first
 *       ({@link GroupCommit#afterQueued}). {@link #applyReplicated(ReplicatedNeedle, Runnable)}
 *       tells its caller when a record's place in that order is fixed, so a caller that feeds
 *       records one after the other need not wait for each fsync.
 *   <li>Reads: one index lookup (optimistic, without a lock when no publish is under way), then
 *       one positional read of the whole record,
 *       which is checked (magic, ids, record CRC, cookie, data CRC, padding) before any byte is
 *       returned. Large needles stream through {@link #openStream} in bounded pieces.
 *   <li>Small records are written over zeros written ahead of them ({@link #preallocate}), a
 *       megabyte at a time: an fsync after an append that grows the file must also make its new
 *       size and blocks durable (a journal commit, or on ext4 without a journal a synchronous
 *       write of the inode), one after an overwrite need not, and the write itself allocates no
 *       blocks. The zeros past the last record are cut off when the volume closes or is sealed;
 *       after a crash the loader cuts them as it cuts a torn tail.
 *   <li>Failed appends are cut back off the files while the writer still holds the lock, so a
 *       full disk or a broken input stream never leaves a half record behind.
 *   <li>Compaction ({@link Compaction}) builds a new generation of files while reads and writes
 *       go on, then swaps it in under both locks. Readers that raced with the swap find the old
 *       files closed and retry on the new generation.
 * </ul>
 */
public final class Volume implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Volume.class);
    private static final int SMALL_RECORD_BYTES = 256 << 10;
    /** Zeros written ahead of the records at a time. */
    static final int PREALLOCATE_BYTES = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(PREALLOCATE_BYTES).asReadOnlyBuffer();
    /** Bound on retries of a read whose generation of files was swapped under it. */
    private static final int GENERATION_RETRIES = 16;
    private static final Runnable NOTHING = () -> {};

    private final Path dir;
    private final int volumeId;
    private final VolumeConfig config;
    private final Failpoints failpoints;
    final ReentrantLock writeLock = new ReentrantLock();
    final ReentrantLock syncLock = new ReentrantLock();
    private final ReentrantLock compactionLock = new ReentrantLock();
    private final GroupCommit groupCommit = new GroupCommit(this);

    volatile Generation gen;
    /** Written under writeLock. */
    volatile long lastSequence;
    /**
     * Under the write lock: the lowest replicated sequence that had its place in the write order
     * but was not written (a full disk, a volume full, a volume sealed, failed or closed after the
     * record was queued), while the volume has not reached it since; 0 for none. Replicated
     * records above it are refused (SEQUENCE_GAP) until a catch-up brings it: taking them would
     * leave a gap no catch-up fills.
     */
    private long replicaGapAt;
    private volatile IOException failure;
    private volatile boolean closed;

    private Volume(Path dir, int volumeId, VolumeConfig config, Failpoints failpoints, VolumeLoader.Loaded loaded) {
        this.dir = dir;
        this.volumeId = volumeId;
        this.config = config;
        this.failpoints = failpoints;
        this.gen = loaded.generation();
        this.lastSequence = loaded.lastSequence();
    }

    /** Creates a new, empty volume in {@code dir} and opens it. The salt should be random. */
    public static Volume create(Path dir, int volumeId, long salt, VolumeConfig config) throws VolumeException {
        return create(dir, volumeId, salt, config, Failpoints.NONE);
    }

    public static Volume create(Path dir, int volumeId, long salt, VolumeConfig config, Failpoints failpoints)
            throws VolumeException {
        checkVolumeId(volumeId);
        try {
            VolumeLoader.create(dir, volumeId, salt);
        } catch (IOException e) {
            throw VolumeException.fromIo("create volume " + volumeId, e);
        }
        return open(dir, volumeId, config, failpoints);
    }

    /** Opens an existing volume, recovering from any crash first. */
    public static Volume open(Path dir, int volumeId, VolumeConfig config) throws VolumeException {
        return open(dir, volumeId, config, Failpoints.NONE);
    }

    public static Volume open(Path dir, int volumeId, VolumeConfig config, Failpoints failpoints)
            throws VolumeException {
        checkVolumeId(volumeId);
        try {
            return new Volume(dir, volumeId, config, failpoints, VolumeLoader.load(dir, volumeId, config));
        } catch (IOException e) {
            throw VolumeException.fromIo("open volume " + volumeId, e);
        }
    }

    private static void checkVolumeId(int volumeId) {
        if (volumeId <= 0) {
            throw new IllegalArgumentException("volume id must be positive, got " + volumeId);
        }
    }

    public int id() {
        return volumeId;
    }

    public Path directory() {
        return dir;
    }

    public VolumeConfig config() {
        return config;
    }

    /** The highest sequence number written to the volume so far, durable or not yet. */
    public long lastSequence() {
        return lastSequence;
    }

    // ---------------------------------------------------------------- writes

    /** Appends a needle; returns its sequence number once it is durable. */
    public long append(long needleId, int cookie, ByteBuffer data) throws VolumeException {
        return append(needleId, cookie, data, null);
    }

    /**
     * Appends a needle, returning its sequence number once it is durable, and tells
     * {@code onWritten} (unless null) that sequence as soon as the record is written, before it
     * is durable: a primary forwards the record to its secondaries meanwhile. For a small record
     * the callback runs in the caller that writes the batch, perhaps another one, while the next
     * batch waits: it must be quick. Whatever it throws is dropped, and it is then simply not told.
     */
    public long append(long needleId, int cookie, ByteBuffer data, LongConsumer onWritten) throws VolumeException {
        checkSize(data.remaining());
        return appendRecord(0, cookie, needleId, data, null, data.remaining(), 0, NOTHING, onWritten);
    }

    /** Runs an {@code onWritten} callback, which may be null, dropping what it throws. */
    static void tellWritten(LongConsumer onWritten, long sequence) {
        if (onWritten == null) {
            return;
        }
        try {
            onWritten.accept(sequence);
        } catch (RuntimeException e) {
            log.warn("a callback for the written record {} failed: {}", sequence, e.toString());
        }
    }

    public long append(long needleId, int cookie, byte[] data) throws VolumeException {
        return append(needleId, cookie, ByteBuffer.wrap(data));
    }

    /**
     * Appends a needle whose {@code length} bytes come from a stream, in bounded pieces. Other
     * appends to this volume wait while the stream is read, so the caller should hand over a
     * stream that is already flowing.
     */
    public long append(long needleId, int cookie, InputStream data, long length) throws VolumeException {
        checkSize(length);
        return appendRecord(0, cookie, needleId, null, data, length, 0, NOTHING, null);
    }

    /**
     * Appends a tombstone for the needle after checking its cookie; returns the tombstone's
     * sequence number once it is durable. A needle whose record is damaged is deleted without
     * the cookie check, which it can no longer pass.
     */
    public long delete(long needleId, int cookie) throws VolumeException {
        for (int attempt = 0; ; attempt++) {
            Generation g = readableGeneration();
            long value = g.lookup(needleId);
            try {
                checkHeaderAndCookie(g, needleId, cookie, value);
            } catch (VolumeException e) {
                if (e.code() != VolumeErrorCode.CORRUPT) {
                    throw e;
                }
                // The cookie cannot be checked on a damaged record; deleting it only removes garbage.
            } catch (IOException e) {
                if (retryOnNewGeneration(g, e, attempt)) {
                    continue;
                }
                throw VolumeException.fromIo("delete needle " + needleId, e);
            }
            return appendRecord(NeedleFormat.FLAG_TOMBSTONE, cookie, needleId, ByteBuffer.allocate(0), null, 0, 0,
                    NOTHING, null);
        }
    }

    /**
     * Applies a record received from the volume's primary, keeping the primary's sequence
     * number, which must be above this replica's last one.
     */
    public void applyReplicated(ReplicatedNeedle record) throws VolumeException {
        applyReplicated(record, NOTHING);
    }

    /**
     * As {@link #applyReplicated(ReplicatedNeedle)}, and runs {@code onQueued} as soon as the record
     * has its place in the volume's write order, before it is durable: once it is queued for group
     * commit (small records) or written (large ones). A caller that hands records over in sequence
     * order lets the next one go then, so that records applied by many threads still share fsyncs;
     * waiting for durability instead would cost one fsync per record. {@code onQueued} is not run
     * when the record is refused before it gets its place (bad input, a closed volume); it runs on
     * the caller's thread and must not throw.
     */
    public void applyReplicated(ReplicatedNeedle record, Runnable onQueued) throws VolumeException {
        if (record.sequence() <= 0) {
            throw new VolumeException(VolumeErrorCode.BAD_INPUT, "sequence must be positive");
        }
        int flags = record.tombstone() ? NeedleFormat.FLAG_TOMBSTONE : 0;
        if (record.tombstone() && record.data().hasRemaining()) {
            throw new VolumeException(VolumeErrorCode.BAD_INPUT, "tombstone with data");
        }
        checkSize(record.data().remaining());
        appendRecord(flags, record.cookie(), record.needleId(), record.data(), null, record.data().remaining(),
                record.sequence(), onQueued, null);
    }

    /**
     * Whether a record of this many data bytes is appended in group commit, where {@link
     * #applyReplicatedAll} takes it; larger ones are written on their own.
     */
    public static boolean appendsInGroup(long dataLength) {
        return dataLength >= 0 && NeedleFormat.recordBytes(dataLength) <= SMALL_RECORD_BYTES;
    }

    /**
     * Applies records received from the volume's primary together, in the order given, as
     * {@link #applyReplicated(ReplicatedNeedle, Runnable)} applies one: queued for group commit
     * one after the other, so that a secondary taking a primary's batch writes and fsyncs it at
     * once, in the caller's thread. {@code onQueued} runs once all have their place. Returns one
     * outcome per record: null when it is durable, else why it was not written (a sequence not
     * above the last one, a volume full, sealed or failed meanwhile...).
     *
     * @throws VolumeException when none of them got a place: bad input (each record must be
     *     valid and {@link #appendsInGroup small}), or a closed volume
     */
    public List<VolumeException> applyReplicatedAll(List<ReplicatedNeedle> records, Runnable onQueued)
            throws VolumeException {
        for (ReplicatedNeedle record : records) {
            if (record.sequence() <= 0) {
                throw new VolumeException(VolumeErrorCode.BAD_INPUT, "sequence must be positive");
            }
            if (record.tombstone() && record.data().hasRemaining()) {
                throw new VolumeException(VolumeErrorCode.BAD_INPUT, "tombstone with data");
            }
            checkSize(record.data().remaining());
            if (!appendsInGroup(record.data().remaining())) {
                throw new VolumeException(VolumeErrorCode.BAD_INPUT, "a record of " + record.data().remaining()
                        + " bytes is applied on its own");
            }
        }
        if (closed) {
            throw closedError();
        }
        long salt = gen.superblock.salt();
        List<GroupCommit.Request> requests = new ArrayList<>(records.size());
        for (ReplicatedNeedle record : records) {
            int flags = record.tombstone() ? NeedleFormat.FLAG_TOMBSTONE : 0;
            ByteBuffer encoded = NeedleFormat.encode(salt, flags, record.cookie(), record.needleId(), record.data(), 0);
            requests.add(new GroupCommit.Request(encoded, record.needleId(), record.tombstone(),
                    record.data().remaining(), record.sequence(), null));
        }
        groupCommit.appendAll(requests, onQueued);
        List<VolumeException> outcomes = new ArrayList<>(requests.size());
        for (GroupCommit.Request r : requests) {
            outcomes.add(r.error);
        }
        return outcomes;
    }

    private void checkSize(long length) throws VolumeException {
        if (length < 0) {
            throw new VolumeException(VolumeErrorCode.BAD_INPUT, "negative length " + length);
        }
        if (length > config.needleSizeBytesMax()) {
            throw new VolumeException(VolumeErrorCode.NEEDLE_TOO_LARGE,
                    "needle of " + length + " bytes is over the limit of " + config.needleSizeBytesMax());
        }
    }

    private long appendRecord(int flags, int cookie, long needleId, ByteBuffer data, InputStream stream, long length,
            long givenSequence, Runnable onQueued, LongConsumer onWritten) throws VolumeException {
        if (stream == null && NeedleFormat.recordBytes(length) <= SMALL_RECORD_BYTES) {
            if (closed) {
                throw closedError();
            }
            ByteBuffer record = NeedleFormat.encode(gen.superblock.salt(), flags, cookie, needleId, data, 0);
            return groupCommit.append(new GroupCommit.Request(record, needleId,
                    (flags & NeedleFormat.FLAG_TOMBSTONE) != 0, (int) length, givenSequence, onWritten), onQueued);
        }
        if (givenSequence == 0) {
            Written w = writeDirect(flags, cookie, needleId, data, stream, length, 0);
            tellWritten(onWritten, w.sequence());
            awaitDurable(w.generation(), w.end());
            return w.sequence();
        }
        // A given sequence must not overtake the lower ones still queued for group commit: they
        // would then fail as regressions. They are written first, and made durable with this one.
        List<GroupCommit.Batch> ahead = new ArrayList<>();
        try {
            Written w = groupCommit.afterQueued(() -> writeDirect(flags, cookie, needleId, data, stream, length,
                    givenSequence), ahead);
            onQueued.run();
            awaitDurable(w.generation(), w.end());
            return w.sequence();
        } finally {
            groupCommit.finish(ahead);
        }
    }

    /** A record written but perhaps not durable yet: where it ends, in which files, and its sequence. */
    private record Written(Generation generation, long end, long sequence) {}

    /** Writes a large or streamed record under the write lock, outside group commit. */
    private Written writeDirect(int flags, int cookie, long needleId, ByteBuffer data, InputStream stream,
            long length, long givenSequence) throws VolumeException {
        Generation g;
        long end;
        long sequence;
        writeLock.lock();
        try {
            checkWritable();
            g = gen;
            sequence = givenSequence == 0 ? lastSequence + 1 : givenSequence;
            if (sequence <= lastSequence) {
                throw new VolumeException(VolumeErrorCode.SEQUENCE_REGRESSION,
                        "sequence " + sequence + " is not above " + lastSequence);
            }
            if (givenSequence != 0) {
                checkNoReplicaGap(givenSequence, lastSequence);
            }
            long start = g.writePos;
            long recordBytes = NeedleFormat.recordBytes(length);
            if (start + recordBytes > config.volumeSizeBytesMax()) {
                if (givenSequence != 0) {
                    replicaGapFailed(givenSequence);
                }
                throw new VolumeException(VolumeErrorCode.VOLUME_FULL, "volume " + volumeId + " has "
                        + (config.volumeSizeBytesMax() - start) + " bytes left, the needle needs " + recordBytes);
            }
            long value = (flags & NeedleFormat.FLAG_TOMBSTONE) != 0
                    ? IndexValue.tombstone(start)
                    : IndexValue.live(start, (int) length);
            try {
                writeRecordAndIndexEntry(g, flags, cookie, needleId, data, stream, (int) length, sequence, start, value);
            } catch (VolumeException | RuntimeException e) {
                if (givenSequence != 0) {
                    replicaGapFailed(givenSequence);
                }
                throw e;
            }
            g.writePos = start + recordBytes;
            g.idxWritePos += IndexFileFormat.ENTRY_BYTES;
            g.idxWrittenPos = g.idxWritePos;
            lastSequence = sequence;
            g.pending.add(new Generation.Pending(needleId, value, g.writePos));
            g.writtenPos = g.writePos;
            end = g.writePos;
        } finally {
            writeLock.unlock();
        }
        return new Written(g, end, sequence);
    }

    /**
     * Writes a large or streamed record and its index entry directly, under the write lock; on
     * failure cuts both files back and throws. Small records go through {@link GroupCommit}.
     */
    private void writeRecordAndIndexEntry(Generation g, int flags, int cookie, long needleId, ByteBuffer data,
            InputStream stream, int length, long sequence, long start, long value) throws VolumeException {
        long salt = g.superblock.salt();
        try {
            writeInPieces(g, salt, flags, cookie, needleId, data, stream, length, sequence, start);
            ByteBuffer entry = ByteBuffer.allocate(IndexFileFormat.ENTRY_BYTES);
            IndexFileFormat.putEntry(entry, needleId, value);
            g.idx.writeFully(entry.flip(), g.idxWritePos);
            failpoints.hit("append.written");
        } catch (IOException | RuntimeException e) {
            cutBack(g, start);
            if (e instanceof InputFailure f) {
                throw new VolumeException(VolumeErrorCode.BAD_INPUT, f.getMessage(), f.getCause());
            }
            if (e instanceof IOException io) {
                throw VolumeException.fromIo("append to volume " + volumeId, io);
            }
            throw (RuntimeException) e;
        }
    }

    private void writeInPieces(Generation g, long salt, int flags, int cookie, long needleId, ByteBuffer data,
            InputStream stream, int length, long sequence, long start) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(NeedleFormat.HEADER_BYTES);
        NeedleFormat.putHeader(header, flags, cookie, needleId, length);
        header.flip();
        g.dat.writeFully(header.duplicate(), start);
        CRC32C crc = new CRC32C();
        long pos = start + NeedleFormat.HEADER_BYTES;
        if (stream == null) {
            crc.update(data.duplicate());
            g.dat.writeFully(data.duplicate(), pos);
        } else {
            byte[] piece = new byte[Math.min(config.readPieceBytes(), Math.max(length, 1))];
            long remaining = length;
            while (remaining > 0) {
                int n = readPiece(stream, piece, (int) Math.min(piece.length, remaining), length - remaining, length);
                crc.update(piece, 0, n);
                g.dat.writeFully(ByteBuffer.wrap(piece, 0, n), pos + length - remaining);
                remaining -= n;
            }
        }
        ByteBuffer footer = ByteBuffer.allocate((int) (NeedleFormat.recordBytes(length) - NeedleFormat.HEADER_BYTES - length));
        NeedleFormat.putFooter(footer, salt, header, length, (int) crc.getValue(), sequence);
        g.dat.writeFully(footer.flip(), pos + length);
    }

    private static int readPiece(InputStream in, byte[] piece, int want, long done, long length) throws InputFailure {
        try {
            int n = in.read(piece, 0, want);
            if (n < 0) {
                throw new InputFailure("stream ended after " + done + " of " + length + " bytes", null);
            }
            return n;
        } catch (IOException | RuntimeException e) {
            throw new InputFailure("reading the needle's stream failed after " + done + " bytes: " + e, e);
        }
    }

    /** The caller's stream failed: not the volume's fault. */
    private static final class InputFailure extends IOException {
        private static final long serialVersionUID = 1L;

        InputFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    void cutBack(Generation g, long start) {
        try {
            g.dat.truncate(start);
            g.allocatedEnd = start;
            g.idx.truncate(g.idxWritePos);
        } catch (IOException e) {
            failure = e;
        }
    }

    /**
     * Makes sure the {@code .dat} file reaches at least {@code end}, writing zeros from its end
     * to a megabyte past {@code end} (at most to the volume's size limit), so that the records
     * written next overwrite space the file already has. When the zeros cannot be written (a
     * full disk, a file size limit), the file is cut back to its last record and the records are
     * appended as they come. Under the write lock.
     */
    void preallocate(Generation g, long end) {
        if (end <= g.allocatedEnd) {
            return;
        }
        long from = Math.max(g.allocatedEnd, g.writePos);
        long to = Math.max(end, Math.min(config.volumeSizeBytesMax(), end + PREALLOCATE_BYTES));
        try {
            for (long pos = from; pos < to; ) {
                ByteBuffer zeros = ZEROS.duplicate();
                zeros.limit((int) Math.min(zeros.capacity(), to - pos));
                int n = zeros.remaining();
                g.dat.writeFully(zeros, pos);
                pos += n;
            }
            failpoints.hit("append.preallocated");
            g.allocatedEnd = to;
        } catch (IOException e) {
            try {
                g.dat.truncate(g.writePos);
                g.allocatedEnd = g.writePos;
            } catch (IOException t) {
                failure = t;
            }
        }
    }

    /** Cuts the zeros past the last record off the {@code .dat} file. Under the write lock. */
    private static void dropPreallocated(Generation g) throws IOException {
        if (g.allocatedEnd > g.writePos) {
            g.dat.truncate(g.writePos);
            g.allocatedEnd = g.writePos;
        }
    }

    /** Waits until the record ending at {@code end} is durable and indexed, fsyncing for others too. */
    void awaitDurable(Generation g, long end) throws VolumeException {
        if (g.durablePos >= end) {
            return;
        }
        syncLock.lock();
        try {
            if (g.durablePos >= end) {
                return;
            }
            if (failure != null) {
                throw new VolumeException(VolumeErrorCode.VOLUME_FAILED, "volume " + volumeId
                        + " failed earlier and may have lost unacknowledged writes: " + failure, failure);
            }
            if (closed) {
                throw closedError();
            }
            long target = g.writtenPos;
            if (config.fsync()) {
                try {
                    g.dat.force();
                    failpoints.hit("append.fsynced");
                } catch (IOException e) {
                    failure = e;
                    throw new VolumeException(VolumeErrorCode.VOLUME_FAILED, "fsync of volume " + volumeId
                            + " failed: " + e, e);
                }
            }
            g.publish(target);
        } finally {
            syncLock.unlock();
        }
    }

    /**
     * Refuses a replicated record above one that had its place but failed to be written, while the
     * volume (its last sequence {@code last}) has not reached that one. Under the write lock.
     */
    void checkNoReplicaGap(long givenSequence, long last) throws VolumeException {
        if (replicaGapAt > last && givenSequence > replicaGapAt) {
            throw new VolumeException(VolumeErrorCode.SEQUENCE_GAP, "volume " + volumeId + " refuses sequence "
                    + givenSequence + ": sequence " + replicaGapAt + " failed to be written here, and a replica "
                    + "takes no record past a missing one");
        }
    }

    /** Notes a replicated sequence that had its place but was not written. Under the write lock. */
    void replicaGapFailed(long givenSequence) {
        if (replicaGapAt <= lastSequence || givenSequence < replicaGapAt) {
            replicaGapAt = givenSequence;
        }
    }

    void checkWritable() throws VolumeException {
        if (closed) {
            throw closedError();
        }
        if (failure != null) {
            throw new VolumeException(VolumeErrorCode.VOLUME_FAILED, "volume " + volumeId + " failed: " + failure,
                    failure);
        }
        if (gen.superblock.sealed()) {
            throw new VolumeException(VolumeErrorCode.READ_ONLY, "volume " + volumeId + " is sealed");
        }
    }

    // ---------------------------------------------------------------- reads

    /** Reads a needle's data, checked against its CRC. */
    public ByteBuffer read(long needleId, int cookie) throws VolumeException {
        LoadedRecord r = loadRecord(needleId);
        return verify(r.generation(), r.bytes(), needleId, cookie, r.length(), false);
    }

    /** A live needle's whole record as read from the file, not checked yet. */
    private record LoadedRecord(Generation generation, ByteBuffer bytes, int length, boolean tombstone) {}

    private LoadedRecord loadRecord(long needleId) throws VolumeException {
        return loadRecord(needleId, false);
    }

    /** The bytes of a needle's newest record; with {@code tombstones}, a deleted needle's tombstone too. */
    private LoadedRecord loadRecord(long needleId, boolean tombstones) throws VolumeException {
        for (int attempt = 0; ; attempt++) {
            Generation g = readableGeneration();
            long value = g.lookup(needleId);
            boolean tombstone = tombstones && value != IndexValue.ABSENT && IndexValue.isTombstone(value);
            if (!tombstone) {
                checkPresent(needleId, value);
            }
            int length = tombstone ? 0 : IndexValue.dataLength(value);
            ByteBuffer record = ByteBuffer.allocate((int) NeedleFormat.recordBytes(length));
            try {
                g.dat.readFully(record, IndexValue.offset(value));
                return new LoadedRecord(g, record, length, tombstone);
            } catch (IOException e) {
                if (retryOnNewGeneration(g, e, attempt)) {
                    continue;
                }
                if (e instanceof EOFException) {
                    throw corrupt(needleId, "record runs past the end of the file");
                }
                throw VolumeException.fromIo("read needle " + needleId, e);
            }
        }
    }

    /**
     * Opens a needle for reading in pieces of at most {@link VolumeConfig#readPieceBytes()}. The
     * whole needle is checked against its CRC before the stream is returned, and again as it is
     * read, so no unchecked byte reaches the caller.
     */
    public NeedleStream openStream(long needleId, int cookie) throws VolumeException {
        while (true) {
            Generation g = readableGeneration();
            if (!g.retain()) {
                continue;
            }
            boolean handedOver = false;
            try {
                long value = g.lookup(needleId);
                NeedleHeader header = checkHeaderAndCookie(g, needleId, cookie, value);
                NeedleStream stream = new NeedleStream(g, IndexValue.offset(value), header.dataLength(),
                        config.readPieceBytes(), needleId, volumeId);
                stream.verifyWhole();
                handedOver = true;
                return stream;
            } catch (IOException e) {
                throw VolumeException.fromIo("read needle " + needleId, e);
            } finally {
                if (!handedOver) {
                    g.release();
                }
            }
        }
    }

    /**
     * A needle's newest record, whole and checked, for a replica that repairs its own damaged
     * copy: its cookie (not checked, as the asker cannot know it), sequence and data; for a
     * deleted needle, its tombstone. CORRUPT when this copy is damaged too.
     */
    public ReplicatedNeedle readRecord(long needleId) throws VolumeException {
        LoadedRecord r = loadRecord(needleId, true);
        NeedleHeader header = NeedleFormat.parseHeader(r.bytes(), 0);
        int cookie = header == null ? 0 : header.cookie();
        ByteBuffer data = verify(r.generation(), r.bytes(), needleId, cookie, r.length(), r.tombstone());
        long sequence = r.bytes().getLong(NeedleFormat.HEADER_BYTES + r.length() + 4);
        return new ReplicatedNeedle(needleId, cookie, r.tombstone(), sequence, data);
    }

    /**
     * Rewrites a damaged record in place from a healthy replica's copy of it ({@link
     * #readRecord}), which must be the same needle with the same length: the record keeps its
     * place, sequence and index entry, so the replicas stay identical. The rewrite is durable and
     * read back before this returns. Refused with COMPACTION_RUNNING while a compaction runs (try
     * again later), and BAD_INPUT when the copy does not fit the record.
     */
    public void repairRecord(ReplicatedNeedle healthy) throws VolumeException {
        if (!compactionLock.tryLock()) {
            throw new VolumeException(VolumeErrorCode.COMPACTION_RUNNING, "volume " + volumeId + " is compacting");
        }
        try {
            Generation g = readableGeneration();
            long value = g.lookup(healthy.needleId());
            boolean tombstone = value != IndexValue.ABSENT && IndexValue.isTombstone(value);
            if (!tombstone) {
                checkPresent(healthy.needleId(), value);
            }
            if (healthy.tombstone() != tombstone
                    || (!tombstone && IndexValue.dataLength(value) != healthy.data().remaining())
                    || (tombstone && healthy.data().remaining() != 0)) {
                throw new VolumeException(VolumeErrorCode.BAD_INPUT, "the copy of needle " + healthy.needleId()
                        + " does not fit its record in volume " + volumeId);
            }
            ByteBuffer record = NeedleFormat.encode(g.superblock.salt(), tombstone ? NeedleFormat.FLAG_TOMBSTONE : 0,
                    healthy.cookie(), healthy.needleId(), healthy.data().duplicate(), healthy.sequence());
            try {
                g.dat.writeFully(record, IndexValue.offset(value));
                g.dat.force();
            } catch (IOException e) {
                throw VolumeException.fromIo("repair needle " + healthy.needleId() + " in volume " + volumeId, e);
            }
            if (tombstone) {
                readRecord(healthy.needleId());
            } else {
                read(healthy.needleId(), healthy.cookie());
            }
        } finally {
            compactionLock.unlock();
        }
    }

    /** The data length of a live needle, without checking its cookie or reading the disk. */
    public int dataLength(long needleId) throws VolumeException {
        long value = readableGeneration().lookup(needleId);
        checkPresent(needleId, value);
        return IndexValue.dataLength(value);
    }

    private void checkPresent(long needleId, long value) throws VolumeException {
        if (value == IndexValue.ABSENT) {
            throw new VolumeException(VolumeErrorCode.NOT_FOUND, "needle " + needleId + " not in volume " + volumeId);
        }
        if (IndexValue.isTombstone(value)) {
            throw new VolumeException(VolumeErrorCode.DELETED, "needle " + needleId + " was deleted");
        }
    }

    /** Reads and checks the header and footer of a live needle's record, and its cookie. */
    private NeedleHeader checkHeaderAndCookie(Generation g, long needleId, int cookie, long value) throws IOException {
        NeedleHeader header = checkHeader(g, needleId, value);
        if (header.cookie() != cookie) {
            throw new VolumeException(VolumeErrorCode.WRONG_COOKIE, "wrong cookie for needle " + needleId);
        }
        return header;
    }

    /** The needle's record header and footer, checked against the index and the checksum. */
    private NeedleHeader checkHeader(Generation g, long needleId, long value) throws IOException {
        checkPresent(needleId, value);
        int length = IndexValue.dataLength(value);
        long offset = IndexValue.offset(value);
        ByteBuffer both = ByteBuffer.allocate(NeedleFormat.HEADER_BYTES + NeedleFormat.FOOTER_BYTES);
        try {
            g.dat.readFully(both.limit(NeedleFormat.HEADER_BYTES), offset);
            g.dat.readFully(both.limit(both.capacity()), offset + NeedleFormat.HEADER_BYTES + length);
        } catch (EOFException e) {
            throw corrupt(needleId, "record runs past the end of the file");
        }
        NeedleHeader header = NeedleFormat.parseHeader(both, 0);
        if (header == null || header.needleId() != needleId || header.dataLength() != length || header.tombstone()) {
            throw corrupt(needleId, "header does not match the index");
        }
        if (NeedleFormat.checkFooter(both, 0, NeedleFormat.HEADER_BYTES, g.superblock.salt()) == null) {
            throw corrupt(needleId, "record checksum mismatch");
        }
        return header;
    }

    private ByteBuffer verify(Generation g, ByteBuffer record, long needleId, int cookie, int length,
            boolean tombstone) throws VolumeException {
        NeedleHeader header = NeedleFormat.parseHeader(record, 0);
        if (header == null || header.needleId() != needleId || header.dataLength() != length
                || header.tombstone() != tombstone) {
            throw corrupt(needleId, "header does not match the index");
        }
        int footerAt = NeedleFormat.HEADER_BYTES + length;
        if (NeedleFormat.recordCrc(g.saltBytes, record.array(), 0, footerAt) != record.getInt(footerAt + 12)) {
            throw corrupt(needleId, "record checksum mismatch");
        }
        if (header.cookie() != cookie) {
            throw new VolumeException(VolumeErrorCode.WRONG_COOKIE, "wrong cookie for needle " + needleId);
        }
        if (!NeedleFormat.paddingIsZero(record, footerAt + NeedleFormat.FOOTER_BYTES, record.capacity())) {
            throw corrupt(needleId, "padding is not zero");
        }
        ByteBuffer data = record.slice(NeedleFormat.OFF_DATA, length);
        CRC32C crc = new CRC32C();
        crc.update(record.array(), NeedleFormat.OFF_DATA, length);
        if ((int) crc.getValue() != record.getInt(footerAt)) {
            throw corrupt(needleId, "data checksum mismatch");
        }
        return data;
    }

    private VolumeException corrupt(long needleId, String why) {
        return new VolumeException(VolumeErrorCode.CORRUPT, "needle " + needleId + " in volume " + volumeId + ": " + why);
    }

    /**
     * Whether an operation that failed on generation {@code g} should run again on the current
     * one: true when the files were closed under it and the volume itself is still open, which
     * happens when a compaction replaced and closed {@code g}.
     */
    private boolean retryOnNewGeneration(Generation g, IOException e, int attempt) {
        return e instanceof ClosedChannelException && !closed && attempt < GENERATION_RETRIES
                && (g.retired || g != gen || !g.dat.isClosed());
    }

    private Generation readableGeneration() throws VolumeException {
        if (closed) {
            throw closedError();
        }
        return gen;
    }

    private VolumeException closedError() {
        return new VolumeException(VolumeErrorCode.CLOSED, "volume " + volumeId + " is closed");
    }

    // ---------------------------------------------------------------- catch-up, scrub, stats

    /**
     * The durable records whose sequence is above {@code afterSequence}, in sequence order, up to
     * about {@code maxBytes} of data (at least one record when there is one). A lagging replica
     * applies them with {@link #applyReplicated} and asks again after the last one.
     */
    public List<ReplicatedNeedle> recordsAfter(long afterSequence, long maxBytes) throws VolumeException {
        for (int attempt = 0; ; attempt++) {
            Generation g = readableGeneration();
            try {
                return CatchUp.recordsAfter(g, afterSequence, maxBytes, config.readPieceBytes(), volumeId);
            } catch (IOException e) {
                if (retryOnNewGeneration(g, e, attempt)) {
                    continue;
                }
                throw VolumeException.fromIo("catch-up read of volume " + volumeId, e);
            }
        }
    }

    /**
     * What identifies the durable record with this sequence, or null when the volume has none (a
     * replica compares it with its source's before taking the records after it).
     */
    public RecordSummary recordAt(long sequence) throws VolumeException {
        for (int attempt = 0; ; attempt++) {
            Generation g = readableGeneration();
            try {
                return CatchUp.recordAt(g, sequence, config.readPieceBytes());
            } catch (IOException e) {
                if (retryOnNewGeneration(g, e, attempt)) {
                    continue;
                }
                throw VolumeException.fromIo("record lookup in volume " + volumeId, e);
            }
        }
    }

    /**
     * Reads every durable record and checks it; returns the ids of needles whose newest record is
     * damaged (they are never served, and should be repaired from another replica).
     */
    public List<Long> scrub() throws VolumeException {
        return scrub(bytes -> { });
    }

    /**
     * As {@link #scrub()}, telling {@code pace} the bytes read after each record, so that it can
     * hold the scrub to a rate (by sleeping).
     */
    public List<Long> scrub(LongConsumer pace) throws VolumeException {
        for (int attempt = 0; ; attempt++) {
            Generation g = readableGeneration();
            try {
                return scrub(g, pace);
            } catch (IOException e) {
                if (retryOnNewGeneration(g, e, attempt)) {
                    continue;
                }
                throw VolumeException.fromIo("scrub of volume " + volumeId, e);
            }
        }
    }

    private List<Long> scrub(Generation g, LongConsumer pace) throws IOException {
        long end = g.durablePos;
        RecordScanner scanner = new RecordScanner(g.dat, g.superblock.salt(), NeedleFormat.SUPERBLOCK_BYTES, end,
                config.readPieceBytes(), true);
        List<Long> bad = new ArrayList<>();
        ScannedRecord r;
        while ((r = scanner.next()) != null) {
            pace.accept(r.length());
            if (!r.dataOk() && !r.header().tombstone()
                    && IndexValue.offset(g.lookup(r.header().needleId())) == r.offset()) {
                bad.add(r.header().needleId());
            }
        }
        List<long[]> damaged = new ArrayList<>(scanner.damagedRanges());
        if (scanner.validEnd() < end) {
            damaged.add(new long[] {scanner.validEnd(), end});
        }
        for (long[] entry : g.entriesIn(damaged)) {
            bad.add(entry[0]);  // a live needle, or a tombstone: both are repaired from a replica
        }
        return bad;
    }

    /** A live needle of the volume: its id, cookie and data length. */
    public record LiveNeedle(long needleId, int cookie, int length) {}

    /**
     * The ids of the volume's live needles (written and not deleted), in id order: a snapshot of
     * the index, for an audit that then asks {@link #liveNeedle} about each.
     */
    public long[] liveNeedleIds() throws VolumeException {
        Generation g = readableGeneration();
        g.indexLock.readLock().lock();
        try {
            long[][] ids = {new long[1024]};
            int[] n = {0};
            g.index.forEach((id, value) -> {
                if (!IndexValue.isTombstone(value)) {
                    if (n[0] == ids[0].length) {
                        ids[0] = Arrays.copyOf(ids[0], n[0] * 2);
                    }
                    ids[0][n[0]++] = id;
                }
            });
            long[] out = Arrays.copyOf(ids[0], n[0]);
            Arrays.sort(out);
            return out;
        } finally {
            g.indexLock.readLock().unlock();
        }
    }

    /**
     * The needle with its cookie read from its record's header, checked; null when it is not live
     * (never written, deleted, compacted away). A damaged record fails with CORRUPT.
     */
    public LiveNeedle liveNeedle(long needleId) throws VolumeException {
        for (int attempt = 0; ; attempt++) {
            Generation g = readableGeneration();
            long value = g.lookup(needleId);
            if (value == IndexValue.ABSENT || IndexValue.isTombstone(value)) {
                return null;
            }
            try {
                NeedleHeader header = checkHeader(g, needleId, value);
                return new LiveNeedle(needleId, header.cookie(), header.dataLength());
            } catch (IOException e) {
                if (retryOnNewGeneration(g, e, attempt)) {
                    continue;
                }
                throw VolumeException.fromIo("read needle " + needleId, e);
            }
        }
    }

    public VolumeStats stats() {
        Generation g = gen;
        long live;
        long liveNeedles;
        long deleted;
        g.indexLock.readLock().lock();
        try {
            live = g.liveBytes;
            liveNeedles = g.liveNeedles;
            deleted = g.deletedNeedles;
        } finally {
            g.indexLock.readLock().unlock();
        }
        long last = lastSequence;
        Superblock sb = g.superblock;
        return new VolumeStats(volumeId, sb.generation(), g.durablePos, live, g.garbageBytes(), liveNeedles, deleted,
                last, sb.sealed(), failure != null);
    }

    /** Whether garbage has passed the configured ratio. */
    public boolean needsCompaction() {
        return stats().garbageRatio() >= config.compactionGarbageRatio();
    }

    /** Heap bytes held by the in-memory index. */
    public long indexHeapBytes() {
        Generation g = gen;
        g.indexLock.readLock().lock();
        try {
            return g.index.heapBytes();
        } finally {
            g.indexLock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- seal, compaction, close

    /** Makes the volume read-only, durably. */
    public void seal() throws VolumeException {
        setSealed(true);
    }

    /** Makes a sealed volume writable again, durably. */
    public void unseal() throws VolumeException {
        setSealed(false);
    }

    private void setSealed(boolean sealed) throws VolumeException {
        writeLock.lock();
        try {
            if (closed) {
                throw closedError();
            }
            Generation g = gen;
            Superblock sb = g.superblock;
            Superblock next = sb.withFlags(sealed ? sb.flags() | Superblock.FLAG_SEALED : sb.flags() & ~Superblock.FLAG_SEALED);
            if (next.equals(sb)) {
                return;
            }
            g.dat.writeFully(next.encode(), 0);
            try {
                if (sealed) {
                    dropPreallocated(g);
                }
                g.dat.force();
            } catch (IOException e) {
                failure = e;
                throw e;
            }
            g.superblock = next;
        } catch (IOException e) {
            throw VolumeException.fromIo("seal volume " + volumeId, e);
        } finally {
            writeLock.unlock();
        }
    }

    public boolean isSealed() {
        return gen.superblock.sealed();
    }

    /**
     * Rewrites the volume without deleted and overwritten needles, while reads and appends go on
     * (appends pause briefly at the end). Crash-safe at every step.
     */
    public void compact() throws VolumeException {
        if (!compactionLock.tryLock()) {
            throw new VolumeException(VolumeErrorCode.COMPACTION_RUNNING, "volume " + volumeId + " is compacting");
        }
        try {
            if (closed) {
                throw closedError();
            }
            if (failure != null) {
                throw new VolumeException(VolumeErrorCode.VOLUME_FAILED, "volume " + volumeId + " failed", failure);
            }
            new Compaction(this, config, failpoints).run();
        } catch (IOException e) {
            throw VolumeException.fromIo("compact volume " + volumeId, e);
        } finally {
            compactionLock.unlock();
        }
    }

    boolean isClosed() {
        return closed;
    }

    Failpoints failpoints() {
        return failpoints;
    }

    void markFailed(IOException e) {
        failure = e;
    }

    /** Fsyncs and closes the files. Appends and reads after this fail with {@link VolumeErrorCode#CLOSED}. */
    @Override
    public void close() throws VolumeException {
        writeLock.lock();
        syncLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            Generation g = gen;
            try {
                if (failure == null) {
                    dropPreallocated(g);
                    g.dat.force();
                    g.idx.force();
                    // Appends waiting for an fsync are durable now: let them return success.
                    g.publish(g.writtenPos);
                }
            } finally {
                g.retired = true;
                g.closeFiles();
            }
        } catch (IOException e) {
            throw VolumeException.fromIo("close volume " + volumeId, e);
        } finally {
            syncLock.unlock();
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Volume[" + volumeId + " in " + dir + "]";
    }
}
