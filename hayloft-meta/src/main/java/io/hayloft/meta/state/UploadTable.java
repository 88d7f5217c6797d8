package io.hayloft.meta.state;

import static io.hayloft.meta.state.Keys.bucketPrefix;
import static io.hayloft.meta.state.Keys.concat;
import static io.hayloft.meta.state.Keys.prefixEnd;
import static io.hayloft.meta.state.Keys.startsWith;
import static io.hayloft.meta.state.Keys.successor;
import static io.hayloft.meta.state.Keys.utf8;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CompleteMultipartUploadResponse;
import io.hayloft.proto.v1.CompletedPart;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ListMultipartUploadsResponse;
import io.hayloft.proto.v1.ListPartsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.UploadInfo;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Multipart uploads in progress and their parts, as S3 defines them. A part's bytes are blobs
 * already on stores; this table keeps the part's chunks until the upload completes, when the
 * object name is swapped to an object made of the named parts' chunks (no bytes are copied), or
 * is aborted.
 *
 * <p>Implementation notes. An upload is kept twice, in one write batch: under its id
 * ({@code uploads}), for the calls that name it, and under bucket, 0x00, key, 0x00, initiation
 * time (8 bytes big-endian), id ({@code upload_names}), so that a bucket's uploads list in key
 * order and, for one key, in the order they began, as S3 lists them. Parts are kept under upload
 * id, 0x00, part number (4 bytes big-endian). An upload's key may not hold U+0000: the 0x00 after
 * the key must sort before every byte of a longer key for the listing's seeks to be right. Like
 * {@link NameTable}, the methods read no clock and draw no random numbers: the caller passes the
 * upload id and the times in.
 */
public final class UploadTable {
    /** S3's largest part number (the smallest is 1). */
    public static final int PART_NUMBER_MAX = 10_000;
    private static final int LIST_LIMIT_MAX = 1000;
    private static final HexFormat HEX = HexFormat.of();

    private final MetaDb db;
    private final NameTable names;

    public UploadTable(MetaDb db, NameTable names) {
        this.db = db;
        this.names = names;
    }

    /**
     * Starts an upload of the template's bucket and key, under {@code uploadId} (chosen by the
     * caller, unguessable). The template's content type, user metadata and headers are kept for
     * the object to be; its chunks, size, etag and time are not.
     */
    public UploadInfo create(ObjectInfo template, String uploadId, long initiatedMs) throws MetaException {
        NameTable.checkKey(template.getKey());
        if (template.getKey().indexOf('\0') >= 0) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "the key of a multipart upload may not hold U+0000");
        }
        names.requireBucket(template.getBucket());
        if (uploadId.isEmpty() || uploadId.indexOf('\0') >= 0) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "invalid upload id");
        }
        if (get(uploadId) != null) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "upload id " + uploadId + " is taken");
        }
        UploadInfo upload = UploadInfo.newBuilder().setBucket(template.getBucket()).setKey(template.getKey())
                .setUploadId(uploadId).setInitiatedMs(initiatedMs)
                .setObject(template.toBuilder().clearChunks().clearSize().clearEtag().clearModifiedMs())
                .build();
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(db.uploads, utf8(uploadId), upload.toByteArray());
            batch.put(db.uploadNames, nameKey(upload), upload.toByteArray());
            db.write(batch);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
        return upload;
    }

    /**
     * Records a part of the upload, replacing any part with its number; returns the replaced
     * part's chunks, except those the new part holds too (a retried put must not free its own
     * needles).
     */
    public List<Chunk> putPart(String bucket, String key, String uploadId, PartInfo part, long modifiedMs)
            throws MetaException {
        if (part.getPartNumber() < 1 || part.getPartNumber() > PART_NUMBER_MAX) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "part number must be 1 to " + PART_NUMBER_MAX
                    + ", got " + Integer.toUnsignedString(part.getPartNumber()));
        }
        if (!part.getEtag().matches("[0-9a-fA-F]{32}")) {
            throw new MetaException(ErrorCode.BAD_REQUEST,
                    "a part's etag must be its MD5 in hex, got " + part.getEtag());
        }
        UploadInfo upload = upload(bucket, key, uploadId);
        byte[] k = partKey(upload.getUploadId(), part.getPartNumber());
        PartInfo old = part(k);
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(db.parts, k, part.toBuilder().setModifiedMs(modifiedMs).build().toByteArray());
            db.write(batch);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
        if (old == null) {
            return List.of();
        }
        Set<Fid> kept = fids(part.getChunksList());
        return old.getChunksList().stream().filter(c -> !kept.contains(c.getFid())).toList();
    }

    /**
     * The upload's parts with a number above {@code partNumberMarker}, in ascending order, at
     * most {@code limit} (1 to 1,000).
     */
    public ListPartsResponse listParts(String bucket, String key, String uploadId, int partNumberMarker, int limit)
            throws MetaException {
        UploadInfo upload = upload(bucket, key, uploadId);
        checkLimit(limit);
        ListPartsResponse.Builder out = ListPartsResponse.newBuilder().setUpload(upload);
        if (Integer.compareUnsigned(partNumberMarker, PART_NUMBER_MAX) >= 0) {
            return out.build();
        }
        byte[] prefix = partPrefix(uploadId);
        try (RocksIterator it = db.db().newIterator(db.parts)) {
            for (it.seek(partKey(uploadId, partNumberMarker + 1)); it.isValid() && startsWith(it.key(), prefix);
                    it.next()) {
                if (out.getPartsCount() == limit) {
                    out.setTruncated(true).setNextPartNumberMarker(out.getParts(limit - 1).getPartNumber());
                    break;
                }
                out.addParts(PartInfo.parseFrom(it.value()));
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
        return out.build();
    }

    /**
     * Lists a bucket's uploads in key order and, for one key, in the order they began: those
     * whose key starts with {@code prefix} and that come after the markers. With an empty
     * {@code uploadIdMarker}, the uploads of keys after {@code keyMarker}; with one, also the
     * uploads of {@code keyMarker} that began after it (all of them when it names no upload of
     * that key any more, say because it was aborted meanwhile). With a delimiter, keys that hold
     * it after the prefix roll up into one common prefix each. Uploads and common prefixes count
     * together towards {@code limit} (1 to 1,000).
     */
    public ListMultipartUploadsResponse listUploads(String bucket, String prefix, String delimiter, String keyMarker,
            String uploadIdMarker, int limit) throws MetaException {
        names.requireBucket(bucket);
        checkLimit(limit);
        ListMultipartUploadsResponse.Builder out = ListMultipartUploadsResponse.newBuilder();
        if (prefix.indexOf('\0') >= 0) {
            return out.build();
        }
        byte[] inBucket = bucketPrefix(bucket);
        byte[] scanPrefix = concat(inBucket, utf8(prefix));
        byte[] from = scanPrefix;
        if (!keyMarker.isEmpty()) {
            byte[] afterMarkers = afterMarkers(bucket, keyMarker, uploadIdMarker);
            if (Arrays.compareUnsigned(afterMarkers, from) > 0) {
                from = afterMarkers;
            }
        }
        int count = 0;
        String lastKey = "";
        String lastUploadId = "";
        try (RocksIterator it = db.db().newIterator(db.uploadNames)) {
            it.seek(from);
            while (it.isValid() && startsWith(it.key(), scanPrefix)) {
                UploadInfo upload = UploadInfo.parseFrom(it.value());
                String rolledUp = NameTable.rollUp(upload.getKey(), prefix, delimiter);
                if (rolledUp != null && rolledUp.equals(keyMarker)) {
                    // Returned as the last entry of the page before.
                    it.seek(prefixEnd(concat(inBucket, utf8(rolledUp))));
                    continue;
                }
                if (count == limit) {
                    out.setTruncated(true).setNextKeyMarker(lastKey).setNextUploadIdMarker(lastUploadId);
                    break;
                }
                count++;
                if (rolledUp != null) {
                    out.addCommonPrefixes(rolledUp);
                    lastKey = rolledUp;
                    lastUploadId = "";
                    it.seek(prefixEnd(concat(inBucket, utf8(rolledUp))));
                } else {
                    out.addUploads(upload);
                    lastKey = upload.getKey();
                    lastUploadId = upload.getUploadId();
                    it.next();
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
        return out.build();
    }

    /** Where a listing resumes: just after the marked upload, or after every upload of the marked key. */
    private byte[] afterMarkers(String bucket, String keyMarker, String uploadIdMarker) throws MetaException {
        byte[] keyStart = concat(bucketPrefix(bucket), utf8(keyMarker), new byte[] {0});
        if (uploadIdMarker.isEmpty()) {
            return prefixEnd(keyStart);
        }
        UploadInfo marked = get(uploadIdMarker);
        if (marked == null || !marked.getBucket().equals(bucket) || !marked.getKey().equals(keyMarker)) {
            return keyStart;
        }
        return successor(nameKey(marked));
    }

    /**
     * Completes the upload: in one write, names the object made of the named parts (in order,
     * their chunks' offsets shifted by the sizes of the parts before) and forgets the upload and
     * all its parts. Every named part but the last must be at least {@code minPartSize} bytes.
     * Returns the new object and the chunks to free: the replaced object's and those of parts
     * that were not named, never one of the new object's.
     */
    public CompleteMultipartUploadResponse complete(String bucket, String key, String uploadId,
            List<CompletedPart> named, long minPartSize, long modifiedMs) throws MetaException {
        UploadInfo upload = upload(bucket, key, uploadId);
        if (named.isEmpty()) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "a multipart upload completes with at least one part");
        }
        for (int i = 1; i < named.size(); i++) {
            if (Integer.compareUnsigned(named.get(i).getPartNumber(), named.get(i - 1).getPartNumber()) <= 0) {
                throw new MetaException(ErrorCode.INVALID_PART_ORDER, "part " + named.get(i).getPartNumber()
                        + " follows part " + named.get(i - 1).getPartNumber());
            }
        }
        SortedMap<Integer, PartInfo> uploaded = parts(uploadId);
        List<PartInfo> chosen = new ArrayList<>();
        for (CompletedPart c : named) {
            PartInfo p = uploaded.get(c.getPartNumber());
            if (p == null || !unquoted(c.getEtag()).equalsIgnoreCase(p.getEtag())) {
                throw new MetaException(ErrorCode.INVALID_PART, "part " + Integer.toUnsignedString(c.getPartNumber())
                        + (p == null ? " was not uploaded" : " has etag " + p.getEtag() + ", not " + c.getEtag()));
            }
            chosen.add(p);
        }
        for (PartInfo p : chosen.subList(0, chosen.size() - 1)) {
            if (Long.compareUnsigned(p.getSize(), minPartSize) < 0) {
                throw new MetaException(ErrorCode.ENTITY_TOO_SMALL, "part " + p.getPartNumber() + " has "
                        + p.getSize() + " bytes, less than the " + minPartSize + " of every part but the last");
            }
        }
        ObjectInfo object = assemble(upload, chosen, modifiedMs);
        try (WriteBatch batch = new WriteBatch()) {
            List<Chunk> freed = new ArrayList<>(names.putObject(object, batch));
            Set<Fid> kept = fids(object.getChunksList());
            for (PartInfo p : uploaded.values()) {
                p.getChunksList().stream().filter(c -> !kept.contains(c.getFid())).forEach(freed::add);
            }
            forget(upload, uploaded.keySet(), batch);
            db.write(batch);
            return CompleteMultipartUploadResponse.newBuilder().setObject(object).addAllFreed(freed).build();
        }
    }

    /** Forgets the upload and its parts; returns the parts' chunks, to be freed. */
    public List<Chunk> abort(String bucket, String key, String uploadId) throws MetaException {
        UploadInfo upload = upload(bucket, key, uploadId);
        SortedMap<Integer, PartInfo> uploaded = parts(uploadId);
        List<Chunk> freed = new ArrayList<>();
        uploaded.values().forEach(p -> freed.addAll(p.getChunksList()));
        try (WriteBatch batch = new WriteBatch()) {
            forget(upload, uploaded.keySet(), batch);
            db.write(batch);
        }
        return freed;
    }

    /**
     * The object the parts make: the upload's template, the parts' chunks in order, the size
     * their sum, and S3's multipart etag: the MD5 of the parts' binary MD5s, a dash, the count.
     */
    private static ObjectInfo assemble(UploadInfo upload, List<PartInfo> parts, long modifiedMs) {
        ObjectInfo.Builder object = upload.getObject().toBuilder().setBucket(upload.getBucket())
                .setKey(upload.getKey()).setModifiedMs(modifiedMs);
        MessageDigest md5 = md5();
        long offset = 0;
        for (PartInfo p : parts) {
            for (Chunk c : p.getChunksList()) {
                object.addChunks(c.toBuilder().setOffset(offset + c.getOffset()));
            }
            offset += p.getSize();
            md5.update(HEX.parseHex(p.getEtag()));
        }
        return object.setSize(offset).setEtag(HEX.formatHex(md5.digest()) + "-" + parts.size()).build();
    }

    private void forget(UploadInfo upload, Set<Integer> partNumbers, WriteBatch batch) throws MetaException {
        try {
            batch.delete(db.uploads, utf8(upload.getUploadId()));
            batch.delete(db.uploadNames, nameKey(upload));
            for (int n : partNumbers) {
                batch.delete(db.parts, partKey(upload.getUploadId(), n));
            }
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        }
    }

    /** The upload of that bucket and key, else NO_SUCH_BUCKET or NO_SUCH_UPLOAD. */
    private UploadInfo upload(String bucket, String key, String uploadId) throws MetaException {
        names.requireBucket(bucket);
        UploadInfo upload = uploadId.isEmpty() ? null : get(uploadId);
        if (upload == null || !upload.getBucket().equals(bucket) || !upload.getKey().equals(key)) {
            throw new MetaException(ErrorCode.NO_SUCH_UPLOAD,
                    "no upload " + uploadId + " of key " + key + " in bucket " + bucket);
        }
        return upload;
    }

    private UploadInfo get(String uploadId) throws MetaException {
        try {
            byte[] v = db.db().get(db.uploads, utf8(uploadId));
            return v == null ? null : UploadInfo.parseFrom(v);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
    }

    private PartInfo part(byte[] k) throws MetaException {
        try {
            byte[] v = db.db().get(db.parts, k);
            return v == null ? null : PartInfo.parseFrom(v);
        } catch (RocksDBException e) {
            throw MetaDb.ioError(e);
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
    }

    /** Every part of the upload, by number. */
    private SortedMap<Integer, PartInfo> parts(String uploadId) throws MetaException {
        SortedMap<Integer, PartInfo> out = new TreeMap<>();
        byte[] prefix = partPrefix(uploadId);
        try (RocksIterator it = db.db().newIterator(db.parts)) {
            for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                PartInfo p = PartInfo.parseFrom(it.value());
                out.put(p.getPartNumber(), p);
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
        return out;
    }

    private static void checkLimit(int limit) throws MetaException {
        if (limit < 1 || limit > LIST_LIMIT_MAX) {
            throw new MetaException(ErrorCode.BAD_REQUEST, "limit must be in [1, " + LIST_LIMIT_MAX + "], got "
                    + Integer.toUnsignedString(limit));
        }
    }

    private static Set<Fid> fids(List<Chunk> chunks) {
        Set<Fid> out = new HashSet<>();
        for (Chunk c : chunks) {
            out.add(c.getFid());
        }
        return out;
    }

    private static String unquoted(String etag) {
        return etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"")
                ? etag.substring(1, etag.length() - 1) : etag;
    }

    private static byte[] nameKey(UploadInfo upload) {
        return concat(bucketPrefix(upload.getBucket()), utf8(upload.getKey()), new byte[] {0},
                ByteBuffer.allocate(Long.BYTES).putLong(upload.getInitiatedMs()).array(), utf8(upload.getUploadId()));
    }

    private static byte[] partPrefix(String uploadId) {
        return concat(utf8(uploadId), new byte[] {0});
    }

    private static byte[] partKey(String uploadId, int partNumber) {
        return concat(partPrefix(uploadId), ByteBuffer.allocate(Integer.BYTES).putInt(partNumber).array());
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has MD5", e);
        }
    }

    /** Visits the fid of every chunk of every part of every open upload. */
    public void forEachPartChunk(Consumer<Fid> visitor) throws MetaException {
        try (RocksIterator it = db.db().newIterator(db.parts)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                for (Chunk c : PartInfo.parseFrom(it.value()).getChunksList()) {
                    visitor.accept(c.getFid());
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw MetaDb.damaged(e);
        }
    }
}
