package io.hayloft.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.hayloft.client.HayloftClient;
import io.hayloft.client.HayloftException;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Object bytes as blobs on the stores: a body is cut into chunks of at most
 * {@link GatewayConfig#chunkBytes()} and each chunk is one blob, so a request holds at most one
 * chunk in memory whatever the object's size. Reads stream the chunks that overlap the range.
 *
 * <p>Blobs of small objects are kept in a bounded cache keyed by fid. A fid is never reused and
 * its bytes never change, so an entry cannot go stale even with several gateways; entries are
 * dropped when their object is overwritten or deleted, to make room for live ones.
 */
final class Blobs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Blobs.class);
    /** Blobs waiting to be deleted, at most; about 100 bytes of heap each. */
    private static final int RECLAIM_QUEUE_MAX = 65_536;
    /** Deletions under way at once, so that the stores' group commits batch their tombstones. */
    private static final int RECLAIM_WORKERS = 16;
    /** How long a stopping gateway goes on deleting what is queued. */
    private static final Duration RECLAIM_DRAIN = Duration.ofSeconds(10);

    /**
     * What a body became: its chunks, its length and its MD5; and, when it was stored {@code
     * early}, the write of its last chunk, durable on its primary, whose other replicas {@link
     * #awaitReplicas} waits for (null when every replica has every chunk).
     */
    record Stored(List<Chunk> chunks, long size, byte[] md5, HayloftClient.PrimaryWrite last) {
        Stored(List<Chunk> chunks, long size, byte[] md5) {
            this(chunks, size, md5, null);
        }

        String etag() {
            return java.util.HexFormat.of().formatHex(md5);
        }

        /**
         * Returns once every replica has every chunk; called once, whatever happens to the body.
         *
         * @throws HayloftException when a replica of the last chunk did not take it
         */
        void awaitReplicas() {
            if (last != null) {
                last.awaitReplicas();
            }
        }

        /** As {@link #awaitReplicas}, for a body given up anyway: a failure is only logged. */
        void awaitReplicasQuietly() {
            try {
                awaitReplicas();
            } catch (HayloftException e) {
                log.warn("a replica of a given-up blob failed: {}", e.getMessage());
            }
        }
    }

    private final HayloftClient client;
    private final int chunkBytes;
    private final int cacheObjectBytesMax;
    private final Cache<Fid, byte[]> cache;
    private final Reclaimer reclaimer;

    Blobs(HayloftClient client, GatewayConfig config) {
        this.client = client;
        this.reclaimer = new Reclaimer(this::deleteBlob, RECLAIM_QUEUE_MAX, RECLAIM_WORKERS, RECLAIM_DRAIN);
        this.chunkBytes = config.chunkBytes();
        this.cacheObjectBytesMax = config.cacheObjectBytesMax();
        this.cache = config.cacheBytes() <= 0 ? null : Caffeine.newBuilder()
                .maximumWeight(config.cacheBytes())
                .<Fid, byte[]>weigher((k, v) -> v.length + 64)
                // Upkeep (eviction) runs in the caller's thread, a few microseconds now and then,
                // instead of waking a pool thread on nearly every write.
                .executor(Runnable::run)
                .build();
    }

    /**
     * Stores the body as chunks. {@code expectedLength} is the length the client declared, or -1;
     * a body that ends early or runs long is refused, and {@code maxBytes} bounds it. On any
     * failure the chunks already written are deleted again before the error is thrown.
     *
     * <p>With {@code early}, a body of declared length returns once its last chunk is durable on
     * its primary, the other replicas still at work: the caller names the object meanwhile, then
     * calls {@link Stored#awaitReplicas}. Else it returns once every replica has every chunk.
     */
    Stored write(InputStream body, long expectedLength, long maxBytes, boolean early) {
        if (expectedLength > maxBytes) {
            throw new S3Exception(S3Error.ENTITY_TOO_LARGE,
                    "Your proposed upload exceeds the maximum allowed size of " + maxBytes + " bytes");
        }
        MessageDigest md5 = md5();
        List<Chunk> chunks = new ArrayList<>();
        long total = 0;
        byte[] only = null;
        HayloftClient.PrimaryWrite last = null;
        try {
            while (true) {
                int want = expectedLength < 0 ? chunkBytes : (int) Math.min(chunkBytes, expectedLength - total);
                if (want == 0) {
                    break;
                }
                byte[] buf = new byte[want];
                int n = readFully(body, buf);
                if (n == 0) {
                    break;
                }
                byte[] data = n == want ? buf : Arrays.copyOf(buf, n);
                total += n;
                if (total > maxBytes) {
                    throw new S3Exception(S3Error.ENTITY_TOO_LARGE,
                            "Your proposed upload exceeds the maximum allowed size of " + maxBytes + " bytes");
                }
                md5.update(data);
                Fid fid;
                if (early && total == expectedLength) {
                    last = client.writeOnPrimary(data);
                    fid = last.fid();
                } else {
                    fid = client.write(data);
                }
                chunks.add(Chunk.newBuilder().setFid(fid).setOffset(total - n).setLength(n).build());
                only = chunks.size() == 1 ? data : null;
                if (n < want) {
                    break;
                }
            }
            if (expectedLength >= 0) {
                if (total < expectedLength) {
                    throw new S3Exception(S3Error.INCOMPLETE_BODY);
                }
                if (body.read() >= 0) {
                    throw new S3Exception(S3Error.INVALID_REQUEST, "the body is longer than its declared length");
                }
            }
            if (cache != null && only != null && total <= cacheObjectBytesMax) {
                // Filled on write: the fid's bytes never change, whatever happens to the name.
                cache.put(chunks.getFirst().getFid(), only);
            }
            return new Stored(List.copyOf(chunks), total, md5.digest(), last);
        } catch (IOException e) {
            discard(new Stored(chunks, total, null, last));
            throw new S3Exception(S3Error.INCOMPLETE_BODY, "reading the request body failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            discard(new Stored(chunks, total, null, last));
            throw e;
        }
    }

    /** Deletes the blobs of a body that will not be named, once their replicas answered. */
    void discard(Stored stored) {
        stored.awaitReplicasQuietly();
        free(stored.chunks());
    }

    /** The bytes of one chunk, from the cache or the stores. */
    byte[] read(Chunk chunk, boolean cacheable) {
        Fid fid = chunk.getFid();
        if (cache != null) {
            byte[] hit = cache.getIfPresent(fid);
            if (hit != null) {
                return hit;
            }
        }
        byte[] data = client.read(fid);
        if (data.length != chunk.getLength()) {
            throw new S3Exception(S3Error.INTERNAL_ERROR, "a chunk's length differs from the object's record");
        }
        if (cache != null && cacheable && data.length <= cacheObjectBytesMax) {
            cache.put(fid, data);
        }
        return data;
    }

    /**
     * Writes bytes [first, last] of an object made of {@code chunks} to {@code out}. Objects up to
     * the cache's object size go through the cache.
     */
    void stream(List<Chunk> chunks, long objectSize, long first, long last, OutputStream out) throws IOException {
        pieces(chunks, first, last, cacheable(objectSize), (data, from, length, at) -> out.write(data, from, length));
    }

    /** Where a part of a requested range lies: in a chunk's bytes, and in the object. */
    @FunctionalInterface
    private interface Piece {
        void take(byte[] data, int from, int length, long objectOffset) throws IOException;
    }

    /** Hands over, in order, each part of bytes [first, last] that a chunk holds. */
    private void pieces(List<Chunk> chunks, long first, long last, boolean cacheable, Piece piece) throws IOException {
        for (Chunk c : chunks) {
            long cStart = c.getOffset();
            long cEnd = c.getOffset() + c.getLength() - 1;
            if (cEnd < first || cStart > last || c.getLength() == 0) {
                continue;
            }
            byte[] data = read(c, cacheable);
            long at = Math.max(first, cStart);
            int from = (int) (at - cStart);
            int to = (int) (Math.min(last, cEnd) - cStart);
            piece.take(data, from, to - from + 1, at);
        }
    }

    /** Whether an object of this size is kept in the cache (and small enough to answer in one piece). */
    boolean cacheable(long objectSize) {
        return objectSize <= cacheObjectBytesMax;
    }

    /** Bytes [first, last] of a {@link #cacheable} object made of {@code chunks}, through the cache. */
    byte[] bytes(List<Chunk> chunks, long first, long last) {
        if (last - first + 1 > cacheObjectBytesMax) {
            throw new IllegalArgumentException("a range of " + (last - first + 1) + " bytes is not small");
        }
        if (chunks.size() == 1 && chunks.get(0).getOffset() == 0 && first == 0
                && last == chunks.get(0).getLength() - 1) {
            return read(chunks.get(0), true);
        }
        byte[] out = new byte[(int) (last - first + 1)];
        try {
            pieces(chunks, first, last, true,
                    (data, from, length, at) -> System.arraycopy(data, from, out, (int) (at - first), length));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an array copy throws none
        }
        return out;
    }

    /**
     * Deletes the blobs of chunks no name points to any more, after the caller has answered (see
     * {@link Reclaimer}). Best effort: a blob that cannot be deleted stays as garbage until the
     * orphan audit finds it; the caller's request has succeeded.
     */
    void free(List<Chunk> chunks) {
        if (chunks.isEmpty()) {
            return;
        }
        List<Fid> fids = new ArrayList<>(chunks.size());
        for (Chunk c : chunks) {
            if (cache != null) {
                cache.invalidate(c.getFid());
            }
            fids.add(c.getFid());
        }
        reclaimer.free(fids);
    }

    /** Deletes a blob; one already gone (the orphan audit may have found it first) is no failure. */
    private void deleteBlob(Fid fid) {
        try {
            client.delete(fid);
        } catch (HayloftException e) {
            if (e.code() != ErrorCode.DELETED && e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
        }
    }

    /** Deletes what is still queued for deletion, for a while, then stops deleting in the background. */
    @Override
    public void close() {
        reclaimer.close();
    }

    /**
     * After naming the chunks failed: frees them only when the failure proves the name was not
     * committed. A timeout, a lost leader or a dropped connection may have come after meta applied
     * the change, and then the name points at these blobs: they stay (as garbage at worst, found by
     * the orphan audit) rather than risk an object whose bytes are gone.
     */
    void freeUnlessCommitted(List<Chunk> chunks, RuntimeException failure) {
        if (definitelyNotCommitted(failure)) {
            free(chunks);
        } else {
            log.warn("keeping {} blob(s) whose name may have been committed: {}", chunks.size(), failure.getMessage());
        }
    }

    /** As {@link #freeUnlessCommitted(List, RuntimeException)}, once the body's replicas answered. */
    void freeUnlessCommitted(Stored stored, RuntimeException failure) {
        stored.awaitReplicasQuietly();
        freeUnlessCommitted(stored.chunks(), failure);
    }

    /** True when the failure happened before, or was meta refusing, the change. */
    static boolean definitelyNotCommitted(RuntimeException failure) {
        if (failure instanceof S3Exception) {
            return true;  // the gateway's own checks, made before it asks meta
        }
        if (failure instanceof HayloftException h) {
            return switch (h.code()) {
                case UNAVAILABLE, NOT_LEADER, INTERNAL, IO_ERROR, ERROR_CODE_UNSPECIFIED, UNRECOGNIZED -> false;
                default -> true;
            };
        }
        return false;
    }

    private static int readFully(InputStream in, byte[] buf) throws IOException {
        int n = 0;
        while (n < buf.length) {
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return n;
    }

    static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }
}
