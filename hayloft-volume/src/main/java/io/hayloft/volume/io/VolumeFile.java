package io.hayloft.volume.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One file of a volume, opened for positional reads and writes, that survives thread interrupts.
 *
 * <p>Implementation notes. A {@link FileChannel} closes itself for every thread when any thread
 * doing I/O on it is interrupted. A store serves many requests on virtual threads that may be
 * interrupted (a cancelled call), so every operation here clears the caller's interrupt status
 * while it runs, restores it afterwards, and when the channel was closed by someone else's
 * interrupt, reopens it and retries. All writes are positional, so a retry is idempotent. Only
 * {@link #close()} closes the file for good.
 */
public final class VolumeFile implements AutoCloseable {
    private static final int RETRIES = 8;
    private static final Set<StandardOpenOption> OPTIONS = Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE);

    private volatile Path path;
    private final ReentrantLock reopenLock = new ReentrantLock();
    private volatile FileChannel channel;
    private volatile boolean closed;
    private volatile boolean reopenForbidden;

    private VolumeFile(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /** Opens an existing file for reading and writing. */
    public static VolumeFile open(Path path) throws IOException {
        return new VolumeFile(path, FileChannel.open(path, OPTIONS));
    }

    /** Creates a new file, failing when it exists. */
    public static VolumeFile create(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.CREATE_NEW);
        return new VolumeFile(path, ch);
    }

    public Path path() {
        return path;
    }

    /** Tells the file it was renamed, so that a reopen after an interrupt finds it. */
    public void movedTo(Path newPath) {
        path = newPath;
    }

    /** Reads exactly {@code dst.remaining()} bytes at {@code position}; EOFException past the end. */
    public void readFully(ByteBuffer dst, long position) throws IOException {
        int n = readUpTo(dst, position);
        if (dst.hasRemaining()) {
            throw new EOFException(path + ": end of file at " + (position + n));
        }
    }

    /** Reads up to {@code dst.remaining()} bytes at {@code position}; stops early only at the end. */
    public int readUpTo(ByteBuffer dst, long position) throws IOException {
        int start = dst.position();
        run(ch -> {
            long pos = position + dst.position() - start;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            return 0L;
        });
        return dst.position() - start;
    }

    /** Writes all of {@code src} at {@code position}. */
    public void writeFully(ByteBuffer src, long position) throws IOException {
        int start = src.position();
        run(ch -> {
            long pos = position + src.position() - start;
            while (src.hasRemaining()) {
                pos += ch.write(src, pos);
            }
            return 0L;
        });
    }

    /** Copies {@code count} bytes at {@code position} of this file to {@code target} at {@code targetPosition}. */
    public void copyTo(long position, long count, VolumeFile target, long targetPosition, ByteBuffer buffer)
            throws IOException {
        long done = 0;
        while (done < count) {
            buffer.clear();
            if (buffer.remaining() > count - done) {
                buffer.limit((int) (count - done));
            }
            readFully(buffer, position + done);
            buffer.flip();
            target.writeFully(buffer, targetPosition + done);
            done += buffer.limit();
        }
    }

    /** Flushes the file's data (and the metadata needed to read it) to stable storage. */
    public void force() throws IOException {
        run(ch -> {
            ch.force(false);
            return 0L;
        });
    }

    public long size() throws IOException {
        return run(FileChannel::size);
    }

    public void truncate(long size) throws IOException {
        run(ch -> {
            ch.truncate(size);
            return 0L;
        });
    }

    /** After this, an interrupt that closes the channel is final (the path may name another file now). */
    public void forbidReopen() {
        reopenForbidden = true;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes the file for good. After this no operation reopens it, even one that raced with the
     * close: a compaction may already have renamed a new file to this path.
     */
    @Override
    public void close() throws IOException {
        reopenLock.lock();
        try {
            closed = true;
            channel.close();
        } finally {
            reopenLock.unlock();
        }
    }

    private interface ChannelOp {
        long apply(FileChannel ch) throws IOException;
    }

    /**
     * Runs the operation with the caller's interrupt status cleared, reopening the channel and
     * retrying when an interrupt closed it. Operations resume from their buffer's position, which
     * counts only bytes transferred, so a retry rewrites at most the same bytes at the same place.
     */
    private long run(ChannelOp op) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            for (int attempt = 0; ; attempt++) {
                FileChannel ch = channel;
                try {
                    return op.apply(ch);
                } catch (ClosedChannelException e) {
                    if (closed || attempt >= RETRIES) {
                        throw e;
                    }
                    if (e instanceof ClosedByInterruptException) {
                        interrupted = true;
                        Thread.interrupted();
                    }
                    reopen(ch);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void reopen(FileChannel failed) throws IOException {
        reopenLock.lock();
        try {
            if (closed || reopenForbidden) {
                throw new ClosedChannelException();
            }
            if (channel == failed) {
                channel = FileChannel.open(path, OPTIONS);
            }
        } finally {
            reopenLock.unlock();
        }
    }
}
