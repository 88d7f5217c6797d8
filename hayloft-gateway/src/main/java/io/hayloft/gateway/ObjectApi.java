package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.hayloft.client.HayloftException;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ObjectInfo;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.w3c.dom.Element;

/** Objects: PUT, GET, HEAD, DELETE, DeleteObjects and CopyObject. */
final class ObjectApi {
    /** S3's bound on user metadata: 2 KB of names and values. */
    static final int USER_METADATA_BYTES_MAX = 2048;
    static final int KEY_BYTES_MAX = 1024;
    private static final int DELETE_KEYS_MAX = 1000;
    /** Deletes of one DeleteObjects request under way at once. */
    private static final int DELETES_IN_FLIGHT = 32;
    /** Largest PUT body whose name is announced while it is stored ({@link ObjectNames#announcePut}). */
    private static final long ANNOUNCED_BYTES_MAX = 1 << 20;

    private final HayloftClient client;
    private final Blobs blobs;
    private final GatewayConfig config;
    private final ObjectNames names;

    ObjectApi(HayloftClient client, ObjectNames names, Blobs blobs, GatewayConfig config) {
        this.client = client;
        this.names = names;
        this.blobs = blobs;
        this.config = config;
    }

    void put(S3Request r, Authenticator.Body body, ServerResponse res) {
        checkKey(r.key());
        ObjectInfo.Builder template = attributes(r);
        Blobs.Stored stored;
        // A small body is stored in a few milliseconds: its name is announced meanwhile.
        try (ObjectNames.Announcement announcement = body.length() >= 0 && body.length() <= ANNOUNCED_BYTES_MAX
                ? names.announcePut() : ObjectNames.Announcement.NONE) {
            // The name goes to meta once the primary has the last chunk durable, while the other
            // replicas finish: the Raft round and their fsyncs overlap. A name is then never
            // committed before one copy of its bytes is durable, and the PUT is answered only
            // once all are. When a replica fails after the name is committed, the PUT fails
            // (503) with its object in place, on a read-only volume that repair re-replicates.
            stored = receive(r, body, blobs, config.maxObjectBytes(), true);
            List<Chunk> replaced;
            try {
                ObjectInfo o = template.setBucket(r.bucket()).setKey(r.key()).addAllChunks(stored.chunks())
                        .setSize(stored.size()).setEtag(stored.etag()).setModifiedMs(System.currentTimeMillis())
                        .build();
                replaced = names.put(o, announcement);
            } catch (RuntimeException e) {
                blobs.freeUnlessCommitted(stored, e);
                throw e;
            }
            try {
                stored.awaitReplicas();
            } finally {
                blobs.free(replaced);
            }
        }
        res.header("ETag", Responses.quoted(stored.etag()));
        res.send();
    }

    void get(S3Request r, ServerResponse res, boolean head) throws IOException {
        checkKey(r.key());
        ObjectInfo o = names.get(r.bucket(), r.key());
        Conditions.check(r, "if-", o.getEtag(), o.getModifiedMs(), false);
        ByteRange range;
        try {
            range = ByteRange.parse(r.header("range"), o.getSize());
        } catch (S3Exception e) {
            res.header("Content-Range", "bytes */" + o.getSize());
            throw e;
        }
        Responses.objectHeaders(res, o);
        overrides(r, res);
        long first = 0;
        long last = o.getSize() - 1;
        if (range != null) {
            first = range.first();
            last = range.last();
            res.status(206);
            res.header("Content-Range", "bytes " + first + "-" + last + "/" + o.getSize());
        }
        long length = last - first + 1;
        res.header("Content-Length", Long.toString(length));
        if (head || length == 0) {
            res.send();
            return;
        }
        if (blobs.cacheable(o.getSize())) {
            // A small body leaves with the headers in one write.
            res.send(blobs.bytes(o.getChunksList(), first, last));
            return;
        }
        try (OutputStream out = res.outputStream()) {
            blobs.stream(o.getChunksList(), o.getSize(), first, last, out);
        }
    }

    /** The response-* query parameters of a GET override the stored headers (presigned links use them). */
    private static void overrides(S3Request r, ServerResponse res) {
        for (Map.Entry<String, String> e : Map.of("response-content-type", "Content-Type",
                "response-content-language", "Content-Language", "response-expires", "Expires",
                "response-cache-control", "Cache-Control", "response-content-disposition", "Content-Disposition",
                "response-content-encoding", "Content-Encoding").entrySet()) {
            String v = r.queryParam(e.getKey());
            if (v != null) {
                res.header(e.getValue(), v);
            }
        }
    }

    void delete(S3Request r, ServerResponse res) {
        checkKey(r.key());
        blobs.free(client.meta().deleteObject(r.bucket(), r.key()));
        res.status(204).send();
    }

    void deleteObjects(S3Request r, Authenticator.Body body, ServerResponse res) throws IOException {
        Element root = Xml.parse(S3Handler.readSmall(body.in(), 4 << 20), "Delete");
        boolean quiet = "true".equalsIgnoreCase(Xml.childText(root, "Quiet"));
        List<Element> objects = Xml.children(root, "Object");
        if (objects.isEmpty() || objects.size() > DELETE_KEYS_MAX) {
            throw new S3Exception(S3Error.MALFORMED_XML);
        }
        List<String> keys = new ArrayList<>(objects.size());
        for (Element obj : objects) {
            String key = Xml.childText(obj, "Key");
            if (key == null) {
                throw new S3Exception(S3Error.MALFORMED_XML);
            }
            keys.add(key);
        }
        Deleted[] outcomes = new Deleted[keys.size()];
        // Deleted side by side, the names share Raft batches: one after the other, each would
        // wait for a Raft round of its own.
        Semaphore inFlight = new Semaphore(DELETES_IN_FLIGHT);
        try (ExecutorService deleters = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < keys.size(); i++) {
                int index = i;
                inFlight.acquireUninterruptibly();
                deleters.execute(() -> {
                    try {
                        outcomes[index] = deleteOne(r.bucket(), keys.get(index));
                    } finally {
                        inFlight.release();
                    }
                });
            }
        }
        Xml x = Xml.root("DeleteResult");
        for (int i = 0; i < keys.size(); i++) {
            Deleted d = outcomes[i];
            if (d.fatal() != null) {
                throw d.fatal();
            }
            if (d.error() != null) {
                x.start("Error").el("Key", keys.get(i)).el("Code", d.error().error().code())
                        .el("Message", d.error().getMessage()).end();
            } else if (!quiet) {
                x.start("Deleted").el("Key", keys.get(i)).end();
            }
        }
        BucketApi.sendXml(res, x);
    }

    /**
     * What became of one key of a DeleteObjects: deleted (both null), refused for itself
     * ({@code error}), or failed in a way that fails the whole request ({@code fatal}: the bucket
     * is gone, or an unexpected failure).
     */
    private record Deleted(S3Exception error, RuntimeException fatal) {}

    private Deleted deleteOne(String bucket, String key) {
        try {
            checkKey(key);
            blobs.free(client.meta().deleteObject(bucket, key));
            return new Deleted(null, null);
        } catch (S3Exception e) {
            return new Deleted(e, null);
        } catch (HayloftException e) {
            if (e.code() == io.hayloft.proto.v1.ErrorCode.NO_SUCH_BUCKET) {
                return new Deleted(null, e);
            }
            return new Deleted(Errors.toS3(e), null);
        } catch (RuntimeException e) {
            return new Deleted(null, e);
        }
    }

    /**
     * CopyObject. The copy gets blobs of its own (a later delete of the source frees the source's
     * blobs), written while the source is read, so it takes no more memory than a PUT.
     */
    void copy(S3Request r, Authenticator.Body body, ServerResponse res) throws IOException {
        checkKey(r.key());
        body.in().transferTo(OutputStream.nullOutputStream());
        String[] source = copySource(r.header("x-amz-copy-source"));
        ObjectInfo src = names.get(source[0], source[1]);
        Conditions.check(r, "x-amz-copy-source-if-", src.getEtag(), src.getModifiedMs(), true);
        String directive = r.header("x-amz-metadata-directive");
        boolean replace = "REPLACE".equalsIgnoreCase(directive);
        if (directive != null && !replace && !"COPY".equalsIgnoreCase(directive)) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Unknown metadata directive: " + directive);
        }
        if (!replace && source[0].equals(r.bucket()) && source[1].equals(r.key())) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "This copy request is illegal because it is trying to copy "
                    + "an object to itself without changing the object's metadata, storage class, website redirect "
                    + "location or encryption attributes.");
        }
        ObjectInfo.Builder target = replace ? attributes(r)
                : ObjectInfo.newBuilder().setContentType(src.getContentType())
                        .putAllUserMetadata(src.getUserMetadataMap()).putAllHeaders(src.getHeadersMap());
        Blobs.Stored stored = copyBytes(src);
        long now = System.currentTimeMillis();
        try {
            ObjectInfo o = target.setBucket(r.bucket()).setKey(r.key()).addAllChunks(stored.chunks())
                    .setSize(stored.size()).setEtag(stored.etag())
                    .setModifiedMs(now).build();
            blobs.free(names.put(o));
            BucketApi.sendXml(res, Xml.root("CopyObjectResult")
                    .el("LastModified", Responses.isoDate(now))
                    .el("ETag", Responses.quoted(o.getEtag())));
        } catch (RuntimeException e) {
            blobs.freeUnlessCommitted(stored.chunks(), e);
            throw e;
        }
    }

    /** Reads the source's chunks and writes them again as new blobs. */
    private Blobs.Stored copyBytes(ObjectInfo src) {
        java.util.ArrayList<Chunk> chunks = new java.util.ArrayList<>();
        MessageDigest md5 = Blobs.md5();
        long offset = 0;
        try {
            for (Chunk c : src.getChunksList()) {
                byte[] data = blobs.read(c, false);
                md5.update(data);
                chunks.add(Chunk.newBuilder().setFid(client.write(data)).setOffset(offset).setLength(data.length)
                        .build());
                offset += data.length;
            }
        } catch (RuntimeException e) {
            blobs.free(chunks);
            throw e;
        }
        return new Blobs.Stored(List.copyOf(chunks), offset, md5.digest());
    }

    /**
     * Stores the body of a PUT or an UploadPart as blobs: a length (or chunked transfer) is
     * required, and a Content-MD5 must match; when it does not, the blobs are freed again.
     * {@code early} as {@link Blobs#write} takes it.
     */
    static Blobs.Stored receive(S3Request r, Authenticator.Body body, Blobs blobs, long maxBytes, boolean early) {
        if (body.length() < 0 && r.header("transfer-encoding") == null) {
            throw new S3Exception(S3Error.MISSING_CONTENT_LENGTH);
        }
        byte[] md5 = contentMd5(r);
        Blobs.Stored stored = blobs.write(body.in(), body.length(), maxBytes, early);
        if (md5 != null && !MessageDigest.isEqual(md5, stored.md5())) {
            blobs.discard(stored);
            throw new S3Exception(S3Error.BAD_DIGEST);
        }
        return stored;
    }

    /** "bucket/key" or "/bucket/key", percent-encoded, perhaps with "?versionId=...". */
    static String[] copySource(String header) {
        String s = header;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q);
        }
        s = S3Request.decodePath(s);
        if (s.startsWith("/")) {
            s = s.substring(1);
        }
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Copy Source must mention the source bucket and key: "
                    + "sourcebucket/sourcekey");
        }
        return new String[] {s.substring(0, slash), s.substring(slash + 1)};
    }

    /** Content type, user metadata and the stored headers of a PUT (or a copy with REPLACE, or a multipart start). */
    static ObjectInfo.Builder attributes(S3Request r) {
        ObjectInfo.Builder b = ObjectInfo.newBuilder();
        String type = r.header("content-type");
        if (type != null) {
            b.setContentType(type);
        }
        Map<String, String> meta = new TreeMap<>();
        int bytes = 0;
        for (Map.Entry<String, List<String>> h : r.headers().entrySet()) {
            if (h.getKey().startsWith("x-amz-meta-")) {
                String name = h.getKey().substring("x-amz-meta-".length());
                String value = String.join(",", h.getValue());
                meta.put(name, value);
                bytes += name.getBytes(StandardCharsets.UTF_8).length + value.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        if (bytes > USER_METADATA_BYTES_MAX) {
            throw new S3Exception(S3Error.METADATA_TOO_LARGE);
        }
        b.putAllUserMetadata(meta);
        for (String h : Responses.STORED_HEADERS) {
            String v = r.header(h);
            if (v != null && !(h.equals("content-encoding") && isOnlyAwsChunked(v))) {
                b.putHeaders(canonical(h), stripAwsChunked(h, v));
            }
        }
        return b;
    }

    /** aws-chunked is how the body travelled, not how the object is encoded: it is not stored. */
    private static boolean isOnlyAwsChunked(String v) {
        return v.trim().equalsIgnoreCase("aws-chunked");
    }

    private static String stripAwsChunked(String header, String v) {
        if (!header.equals("content-encoding")) {
            return v;
        }
        StringBuilder out = new StringBuilder();
        for (String part : v.split(",")) {
            if (!part.trim().equalsIgnoreCase("aws-chunked")) {
                out.append(out.isEmpty() ? "" : ",").append(part.trim());
            }
        }
        return out.toString();
    }

    private static String canonical(String lower) {
        StringBuilder out = new StringBuilder(lower.length());
        boolean up = true;
        for (char c : lower.toCharArray()) {
            out.append(up ? Character.toUpperCase(c) : c);
            up = c == '-';
        }
        return out.toString();
    }

    static void checkKey(String key) {
        if (key.getBytes(StandardCharsets.UTF_8).length > KEY_BYTES_MAX) {
            throw new S3Exception(S3Error.KEY_TOO_LONG);
        }
    }

    /** The decoded Content-MD5 header, or null; InvalidDigest when it is not 16 bytes of base64. */
    static byte[] contentMd5(S3Request r) {
        String v = r.header("content-md5");
        if (v == null) {
            return null;
        }
        try {
            byte[] md5 = Base64.getDecoder().decode(v.trim());
            if (md5.length != 16) {
                throw new S3Exception(S3Error.INVALID_DIGEST);
            }
            return md5;
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_DIGEST);
        }
    }
}
