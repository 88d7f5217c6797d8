package io.hayloft.meta.state;

import static io.hayloft.meta.state.Keys.bucketPrefix;
import static io.hayloft.meta.state.Keys.concat;
import static io.hayloft.meta.state.Keys.prefixEnd;
import static io.hayloft.meta.state.Keys.startsWith;
import static io.hayloft.meta.state.Keys.successor;
import static io.hayloft.meta.state.Keys.utf8;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.BucketInfo;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ListObjectsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Buckets and object names: the part of meta's state that S3 sees.
 *
 * <p>Implementation notes. Object keys are stored as bucket, 0x00, key (UTF-8), so one bucket's
 * objects are contiguous and in the binary UTF-8 order that S3 lists in (bucket names cannot
 * hold 0x00). Every change is one RocksDB write batch. The methods are deterministic, with no
 * clock and no randomness (the caller passes times in), so that every Raft peer that applies the
 * same commands ends with the same state.
 */
public final class NameTable {
    /** S3's limit on a key: 1,024 bytes of UTF-8. */
    public static final int KEY_BYTES_MAX = 1024;
    private static final int LIST_LIMIT_MAX = 1000;

    private final MetaDb db;

    public NameTable(MetaDb db) {
        this.db = db;
    }

    public void createBucket(String bucket, long createdMs) throws MetaException {
        checkBucketName(bucket);
        if (bucketInfo(bucket) != null) {
            throw new MetaException(ErrorCode.BUCKET_EXISTS, "bucket " + bucket + " exists");
        }
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(db.buckets, utf8(bucket),
                    BucketInfo.newBuilder().setName(bucket).setCreatedMs(createdMs).build().toByteArray());
            db.write(batch);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
    }

    /** Deletes an empty bucket: one without objects and without multipart uploads in progress, as S3 does. */
    public void deleteBucket(String bucket) throws MetaException {
        requireBucket(bucket);
        if (Keys.anyWithPrefix(db.db(), db.objects, bucketPrefix(bucket))) {
            throw new MetaException(ErrorCode.BUCKET_NOT_EMPTY, "bucket " + bucket + " is not empty");
        }
        if (Keys.anyWithPrefix(db.db(), db.uploadNames, bucketPrefix(bucket))) {
            throw new MetaException(ErrorCode.BUCKET_NOT_EMPTY,
                    "bucket " + bucket + " has multipart uploads in progress");
        }
        try (WriteBatch batch = new WriteBatch()) {
            batch.delete(db.buckets, utf8(bucket));
            db.write(batch);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
    }

    /** All buckets in name order. */
    public List<BucketInfo> listBuckets() throws MetaException {
        List<BucketInfo> out = new ArrayList<>();
        try (RocksIterator it = db.db().newIterator(db.buckets)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(BucketInfo.parseFrom(it.value()));
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
        return out;
    }

    /** The bucket, or null. */
    public BucketInfo bucketInfo(String bucket) throws MetaException {
        try {
            byte[] v = db.db().get(db.buckets, utf8(bucket));
            return v == null ? null : BucketInfo.parseFrom(v);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
    }

    /** Puts the object under its name, replacing any earlier one; returns the replaced chunks. */
    public List<Chunk> putObject(ObjectInfo object) throws MetaException {
        checkKey(object.getKey());
        requireBucket(object.getBucket());
        try (WriteBatch batch = new WriteBatch()) {
            List<Chunk> replaced = putObject(object, batch);
            db.write(batch);
            return replaced;
        }
    }

    /**
     * Adds the naming of a checked object (valid key, existing bucket) to {@code batch}, for a
     * caller that changes more in the same atomic write; returns the chunks it will replace.
     */
    List<Chunk> putObject(ObjectInfo object, WriteBatch batch) throws MetaException {
        byte[] k = objectKey(object.getBucket(), object.getKey());
        ObjectInfo old = object(k);
        try {
            batch.put(db.objects, k, object.toByteArray());
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
        if (old == null) {
            return List.of();
        }
        // A retried put (the first try applied, its answer was lost) replaces the object with
        // itself: its own needles must not be handed back to be freed.
        Set<Fid> kept = new HashSet<>();
        for (Chunk c : object.getChunksList()) {
            kept.add(c.getFid());
        }
        return old.getChunksList().stream().filter(c -> !kept.contains(c.getFid())).toList();
    }

    public ObjectInfo getObject(String bucket, String key) throws MetaException {
        checkKey(key);
        requireBucket(bucket);
        ObjectInfo o = object(objectKey(bucket, key));
        if (o == null) {
            throw new MetaException(ErrorCode.NO_SUCH_KEY, "no key " + key + " in bucket " + bucket);
        }
        return o;
    }

    /** Removes the name; returns its chunks (none when there was no such key, as S3 deletes succeed). */
    public List<Chunk> deleteObject(String bucket, String key) throws MetaException {
        checkKey(key);
        requireBucket(bucket);
        byte[] k = objectKey(bucket, key);
        ObjectInfo old = object(k);
        if (old == null) {
            return List.of();
        }
        try (WriteBatch batch = new WriteBatch()) {
            batch.delete(db.objects, k);
            db.write(batch);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
        return old.getChunksList();
    }

    /**
     * Lists a bucket's objects in key order, as S3 does: keys that start with {@code prefix} and
     * come after {@code startAfter}; with a delimiter, keys that hold it after the prefix are
     * rolled up into one common prefix each. Objects and common prefixes together count towards
     * {@code limit} (1 to 1,000).
     */
    public ListObjectsResponse listObjects(String bucket, String prefix, String delimiter, String startAfter, int limit)
            throws MetaException {
        requireBucket(bucket);
        if (limit < 1 || limit > LIST_LIMIT_MAX) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "limit must be in [1, " + LIST_LIMIT_MAX + "], got " + limit);
        }
        byte[] bucketPrefix = bucketPrefix(bucket);
        byte[] scanPrefix = concat(bucketPrefix, utf8(prefix));
        ListObjectsResponse.Builder out = ListObjectsResponse.newBuilder();
        int count = 0;
        String last = "";
        try (RocksIterator it = db.db().newIterator(db.objects)) {
            byte[] from = scanPrefix;
            if (!startAfter.isEmpty() && startAfter.compareTo(prefix) >= 0) {
                from = successor(concat(bucketPrefix, utf8(startAfter)));
            }
            it.seek(from);
            while (it.isValid() && startsWith(it.key(), scanPrefix)) {
                String key = new String(it.key(), bucketPrefix.length, it.key().length - bucketPrefix.length,
                        StandardCharsets.UTF_8);
                String rolledUp = rollUp(key, prefix, delimiter);
                if (count == limit) {
                    out.setTruncated(true);
                    break;
                }
                if (rolledUp != null) {
                    if (!rolledUp.equals(startAfter)) {
                        out.addCommonPrefixes(rolledUp);
                        count++;
                        last = rolledUp;
                    }
                    it.seek(prefixEnd(concat(bucketPrefix, utf8(rolledUp))));
                    continue;
                }
                out.addObjects(ObjectInfo.parseFrom(it.value()));
                count++;
                last = key;
                it.next();
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
        if (out.getTruncated()) {
            out.setNextStartAfter(last);
        }
        return out.build();
    }

    /** The common prefix the key rolls up into, or null when it is listed as itself. */
    static String rollUp(String key, String prefix, String delimiter) {
        if (delimiter.isEmpty()) {
            return null;
        }
        int at = key.indexOf(delimiter, prefix.length());
        return at < 0 ? null : key.substring(0, at + delimiter.length());
    }

    private ObjectInfo object(byte[] k) throws MetaException {
        try {
            byte[] v = db.db().get(db.objects, k);
            return v == null ? null : ObjectInfo.parseFrom(v);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
    }

    void requireBucket(String bucket) throws MetaException {
        if (bucketInfo(bucket) == null) {
            throw new MetaException(ErrorCode.NO_SUCH_BUCKET, "no bucket " + bucket);
        }
    }

    /**
     * S3's rules: 3 to 63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit, no
     * "..", and not shaped like an IPv4 address.
     */
    static void checkBucketName(String bucket) throws MetaException {
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") || bucket.contains("..")
                || bucket.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "invalid bucket name: " + bucket);
        }
    }

    static void checkKey(String key) throws MetaException {
        int bytes = utf8(key).length;
        if (bytes == 0 || bytes > KEY_BYTES_MAX) {
            throw new MetaException(ErrorCode.BAD_REQUEST,
                    "key must be 1 to " + KEY_BYTES_MAX + " bytes of UTF-8, got " + bytes);
        }
    }

    private static byte[] objectKey(String bucket, String key) {
        return concat(bucketPrefix(bucket), utf8(key));
    }

    /** Visits the fid of every chunk of every object: the needles the names keep alive. */
    public void forEachChunk(Consumer<Fid> visitor) throws MetaException {
        try (RocksIterator it = db.db().newIterator(db.objects)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                for (Chunk c : ObjectInfo.parseFrom(it.value()).getChunksList()) {
                    visitor.accept(c.getFid());
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
    }
}
