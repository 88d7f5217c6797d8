package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.hayloft.client.HayloftException;
import io.hayloft.proto.v1.BucketInfo;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.ListObjectsRequest;
import io.hayloft.proto.v1.ListObjectsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Buckets, and listings of their objects (ListObjects V1 and V2). */
final class BucketApi {
    static final String OWNER_ID = "hayloft";
    private static final int MAX_KEYS = 1000;

    private final HayloftClient client;

    BucketApi(HayloftClient client) {
        this.client = client;
    }

    void listBuckets(ServerResponse res) {
        Xml x = Xml.root("ListAllMyBucketsResult")
                .start("Owner").el("ID", OWNER_ID).el("DisplayName", OWNER_ID).end()
                .start("Buckets");
        for (BucketInfo b : client.meta().listBuckets()) {
            x.start("Bucket").el("Name", b.getName()).el("CreationDate", Responses.isoDate(b.getCreatedMs())).end();
        }
        sendXml(res, x.end());
    }

    void create(S3Request r, Authenticator.Body body, ServerResponse res) throws IOException {
        // An optional CreateBucketConfiguration names a region; any region is this one.
        byte[] config = S3Handler.readSmall(body.in(), 64 << 10);
        if (config.length > 0) {
            Xml.parse(config, "CreateBucketConfiguration");
        }
        try {
            client.meta().createBucket(r.bucket());
        } catch (HayloftException e) {
            // Meta keeps S3's naming rules; the one thing it refuses a new bucket for is its name.
            if (e.code() == ErrorCode.BAD_REQUEST) {
                throw new S3Exception(S3Error.INVALID_BUCKET_NAME, "The specified bucket is not valid: " + r.bucket(), e);
            }
            throw e;
        }
        res.header("Location", "/" + r.bucket());
        res.send();
    }

    void delete(S3Request r, ServerResponse res) {
        client.meta().deleteBucket(r.bucket());
        res.status(204).send();
    }

    void head(S3Request r, ServerResponse res) {
        requireBucket(r.bucket());
        res.send();
    }

    void location(S3Request r, ServerResponse res, String region) {
        requireBucket(r.bucket());
        // S3 answers an empty constraint for us-east-1.
        sendXml(res, Xml.root("LocationConstraint")
                .text(region.equals(GatewayConfig.DEFAULT_REGION) ? "" : region));
    }

    void versioning(S3Request r, ServerResponse res) {
        requireBucket(r.bucket());
        sendXml(res, Xml.root("VersioningConfiguration"));
    }

    /** ListObjects (V1) and ListObjectsV2, which differ in their markers and a few elements. */
    void listObjects(S3Request r, ServerResponse res) {
        boolean v2 = "2".equals(r.queryParam("list-type"));
        String prefix = orEmpty(r.queryParam("prefix"));
        String delimiter = orEmpty(r.queryParam("delimiter"));
        String encodingType = r.queryParam("encoding-type");
        if (encodingType != null && !encodingType.equals("url")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
        }
        boolean url = encodingType != null;
        int maxKeys = maxKeys(r.queryParam("max-keys"));
        String startAfter;
        String continuation = null;
        if (v2) {
            continuation = r.queryParam("continuation-token");
            startAfter = continuation != null ? decodeToken(continuation) : orEmpty(r.queryParam("start-after"));
        } else {
            startAfter = orEmpty(r.queryParam("marker"));
        }
        ListObjectsResponse page;
        if (maxKeys == 0) {
            requireBucket(r.bucket());
            page = ListObjectsResponse.getDefaultInstance();
        } else {
            page = client.meta().listObjects(ListObjectsRequest.newBuilder().setBucket(r.bucket())
                    .setPrefix(prefix).setDelimiter(delimiter).setStartAfter(startAfter).setLimit(maxKeys).build());
        }

        Xml x = Xml.root("ListBucketResult")
                .el("Name", r.bucket())
                .el("Prefix", enc(prefix, url));
        if (v2) {
            x.el("KeyCount", page.getObjectsCount() + page.getCommonPrefixesCount());
            x.el("ContinuationToken", continuation);
            if (page.getTruncated()) {
                x.el("NextContinuationToken", encodeToken(page.getNextStartAfter()));
            }
            if (r.queryParam("start-after") != null) {
                x.el("StartAfter", enc(r.queryParam("start-after"), url));
            }
        } else {
            x.el("Marker", enc(startAfter, url));
            if (page.getTruncated()) {
                x.el("NextMarker", enc(page.getNextStartAfter(), url));
            }
        }
        x.el("MaxKeys", maxKeys);
        if (!delimiter.isEmpty()) {
            x.el("Delimiter", enc(delimiter, url));
        }
        if (url) {
            x.el("EncodingType", "url");
        }
        x.el("IsTruncated", page.getTruncated());
        boolean owner = !v2 || "true".equals(r.queryParam("fetch-owner"));
        for (ObjectInfo o : page.getObjectsList()) {
            x.start("Contents")
                    .el("Key", enc(o.getKey(), url))
                    .el("LastModified", Responses.isoDate(o.getModifiedMs()))
                    .el("ETag", Responses.quoted(o.getEtag()))
                    .el("Size", o.getSize())
                    .el("StorageClass", "STANDARD");
            if (owner) {
                x.start("Owner").el("ID", OWNER_ID).el("DisplayName", OWNER_ID).end();
            }
            x.end();
        }
        for (String p : page.getCommonPrefixesList()) {
            x.start("CommonPrefixes").el("Prefix", enc(p, url)).end();
        }
        sendXml(res, x);
    }

    private void requireBucket(String bucket) {
        // A listing of at most one key is the cheapest linearizable proof that the bucket exists.
        client.meta().listObjects(ListObjectsRequest.newBuilder().setBucket(bucket).setLimit(1).build());
    }

    static int maxKeys(String value) {
        if (value == null) {
            return MAX_KEYS;
        }
        try {
            int n = Integer.parseInt(value);
            if (n < 0) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "max-keys must not be negative");
            }
            return Math.min(n, MAX_KEYS);
        } catch (NumberFormatException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "max-keys is not a number: " + value);
        }
    }

    static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /** With encoding-type=url, names are percent-encoded (spaces as %20, '/' kept), as S3 does. */
    static String enc(String s, boolean url) {
        if (!url || s == null) {
            return s;
        }
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/")
                .replace("%7E", "~").replace("*", "%2A");
    }

    /** A V2 continuation token: the key to start after, opaque to clients. */
    static String encodeToken(String startAfter) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(startAfter.getBytes(StandardCharsets.UTF_8));
    }

    static String decodeToken(String token) {
        try {
            return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect");
        }
    }

    static void sendXml(ServerResponse res, Xml x) {
        res.header("Content-Type", Responses.XML_TYPE);
        res.send(x.toBytes());
    }
}
