package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.hayloft.proto.v1.CompleteMultipartUploadRequest;
import io.hayloft.proto.v1.CompleteMultipartUploadResponse;
import io.hayloft.proto.v1.CompletedPart;
import io.hayloft.proto.v1.ListMultipartUploadsRequest;
import io.hayloft.proto.v1.ListMultipartUploadsResponse;
import io.hayloft.proto.v1.ListPartsRequest;
import io.hayloft.proto.v1.ListPartsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.UploadInfo;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.List;
import org.w3c.dom.Element;

/**
 * Multipart uploads. Each part is stored as blobs like a PUT and recorded in meta; completion is
 * one meta command that builds the object from the parts' chunks, so no byte is copied.
 */
final class MultipartApi {
    static final int PART_NUMBER_MAX = 10_000;
    private static final int LIST_MAX = 1000;

    private final HayloftClient client;
    private final Blobs blobs;
    private final GatewayConfig config;

    MultipartApi(HayloftClient client, Blobs blobs, GatewayConfig config) {
        this.client = client;
        this.blobs = blobs;
        this.config = config;
    }

    void create(S3Request r, ServerResponse res) {
        ObjectApi.checkKey(r.key());
        ObjectInfo template = ObjectApi.attributes(r).setBucket(r.bucket()).setKey(r.key()).build();
        UploadInfo u = client.meta().createMultipartUpload(template);
        BucketApi.sendXml(res, Xml.root("InitiateMultipartUploadResult")
                .el("Bucket", r.bucket())
                .el("Key", r.key())
                .el("UploadId", u.getUploadId()));
    }

    void uploadPart(S3Request r, Authenticator.Body body, ServerResponse res) {
        String uploadId = r.queryParam("uploadId");
        int partNumber = partNumber(r.queryParam("partNumber"));
        if (uploadId == null || uploadId.isEmpty()) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "a part needs an uploadId");
        }
        if (r.header("x-amz-copy-source") != null) {
            throw new S3Exception(S3Error.NOT_IMPLEMENTED, "UploadPartCopy is not implemented");
        }
        Blobs.Stored stored = ObjectApi.receive(r, body, blobs, config.maxObjectBytes(), false);
        try {
            PartInfo part = PartInfo.newBuilder().setPartNumber(partNumber).setEtag(stored.etag())
                    .setSize(stored.size()).addAllChunks(stored.chunks()).build();
            blobs.free(client.meta().putPart(r.bucket(), r.key(), uploadId, part));
        } catch (RuntimeException e) {
            blobs.freeUnlessCommitted(stored.chunks(), e);
            throw e;
        }
        res.header("ETag", Responses.quoted(stored.etag()));
        res.send();
    }

    void complete(S3Request r, Authenticator.Body body, ServerResponse res) throws IOException {
        Element root = Xml.parse(S3Handler.readSmall(body.in(), 4 << 20), "CompleteMultipartUpload");
        List<Element> parts = Xml.children(root, "Part");
        if (parts.isEmpty()) {
            throw new S3Exception(S3Error.MALFORMED_XML, "You must specify at least one part");
        }
        CompleteMultipartUploadRequest.Builder req = CompleteMultipartUploadRequest.newBuilder()
                .setBucket(r.bucket()).setKey(r.key()).setUploadId(r.queryParam("uploadId"))
                .setMinPartSize(config.minPartBytes());
        for (Element p : parts) {
            String number = Xml.childText(p, "PartNumber");
            String etag = Xml.childText(p, "ETag");
            if (number == null || etag == null) {
                throw new S3Exception(S3Error.MALFORMED_XML);
            }
            int n;
            try {
                n = Integer.parseInt(number.trim());
            } catch (NumberFormatException e) {
                throw new S3Exception(S3Error.MALFORMED_XML);
            }
            req.addParts(CompletedPart.newBuilder().setPartNumber(n).setEtag(Conditions.unquote(etag.trim())));
        }
        CompleteMultipartUploadResponse done = client.meta().completeMultipartUpload(req.build());
        blobs.free(done.getFreedList());
        BucketApi.sendXml(res, Xml.root("CompleteMultipartUploadResult")
                .el("Location", "/" + r.bucket() + "/" + r.key())
                .el("Bucket", r.bucket())
                .el("Key", r.key())
                .el("ETag", Responses.quoted(done.getObject().getEtag())));
    }

    void abort(S3Request r, ServerResponse res) {
        blobs.free(client.meta().abortMultipartUpload(r.bucket(), r.key(), r.queryParam("uploadId")));
        res.status(204).send();
    }

    void listParts(S3Request r, ServerResponse res) {
        int max = limit(r.queryParam("max-parts"));
        int marker = r.queryParam("part-number-marker") == null ? 0 : nonNegative(r.queryParam("part-number-marker"));
        ListPartsResponse page = client.meta().listParts(ListPartsRequest.newBuilder().setBucket(r.bucket())
                .setKey(r.key()).setUploadId(r.queryParam("uploadId")).setPartNumberMarker(marker).setLimit(max)
                .build());
        Xml x = Xml.root("ListPartsResult")
                .el("Bucket", r.bucket())
                .el("Key", r.key())
                .el("UploadId", r.queryParam("uploadId"))
                .start("Initiator").el("ID", BucketApi.OWNER_ID).el("DisplayName", BucketApi.OWNER_ID).end()
                .start("Owner").el("ID", BucketApi.OWNER_ID).el("DisplayName", BucketApi.OWNER_ID).end()
                .el("StorageClass", "STANDARD")
                .el("PartNumberMarker", marker)
                .el("NextPartNumberMarker", page.getTruncated() ? page.getNextPartNumberMarker() : null)
                .el("MaxParts", max)
                .el("IsTruncated", page.getTruncated());
        for (PartInfo p : page.getPartsList()) {
            x.start("Part")
                    .el("PartNumber", p.getPartNumber())
                    .el("LastModified", Responses.isoDate(p.getModifiedMs()))
                    .el("ETag", Responses.quoted(p.getEtag()))
                    .el("Size", p.getSize())
                    .end();
        }
        BucketApi.sendXml(res, x);
    }

    void listUploads(S3Request r, ServerResponse res) {
        int max = limit(r.queryParam("max-uploads"));
        String prefix = BucketApi.orEmpty(r.queryParam("prefix"));
        String delimiter = BucketApi.orEmpty(r.queryParam("delimiter"));
        String keyMarker = BucketApi.orEmpty(r.queryParam("key-marker"));
        String uploadIdMarker = BucketApi.orEmpty(r.queryParam("upload-id-marker"));
        boolean url = "url".equals(r.queryParam("encoding-type"));
        ListMultipartUploadsResponse page = client.meta().listMultipartUploads(ListMultipartUploadsRequest.newBuilder()
                .setBucket(r.bucket()).setPrefix(prefix).setDelimiter(delimiter).setKeyMarker(keyMarker)
                .setUploadIdMarker(uploadIdMarker).setLimit(max).build());
        Xml x = Xml.root("ListMultipartUploadsResult")
                .el("Bucket", r.bucket())
                .el("KeyMarker", BucketApi.enc(keyMarker, url))
                .el("UploadIdMarker", uploadIdMarker)
                .el("NextKeyMarker", page.getTruncated() ? BucketApi.enc(page.getNextKeyMarker(), url) : null)
                .el("NextUploadIdMarker", page.getTruncated() ? page.getNextUploadIdMarker() : null)
                .el("Prefix", BucketApi.enc(prefix, url));
        if (!delimiter.isEmpty()) {
            x.el("Delimiter", BucketApi.enc(delimiter, url));
        }
        x.el("MaxUploads", max).el("IsTruncated", page.getTruncated());
        if (url) {
            x.el("EncodingType", "url");
        }
        for (UploadInfo u : page.getUploadsList()) {
            x.start("Upload")
                    .el("Key", BucketApi.enc(u.getKey(), url))
                    .el("UploadId", u.getUploadId())
                    .start("Initiator").el("ID", BucketApi.OWNER_ID).el("DisplayName", BucketApi.OWNER_ID).end()
                    .start("Owner").el("ID", BucketApi.OWNER_ID).el("DisplayName", BucketApi.OWNER_ID).end()
                    .el("StorageClass", "STANDARD")
                    .el("Initiated", Responses.isoDate(u.getInitiatedMs()))
                    .end();
        }
        for (String p : page.getCommonPrefixesList()) {
            x.start("CommonPrefixes").el("Prefix", BucketApi.enc(p, url)).end();
        }
        BucketApi.sendXml(res, x);
    }

    private static int partNumber(String value) {
        try {
            int n = Integer.parseInt(value == null ? "" : value);
            if (n >= 1 && n <= PART_NUMBER_MAX) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new S3Exception(S3Error.INVALID_ARGUMENT,
                "Part number must be an integer between 1 and " + PART_NUMBER_MAX + ", inclusive");
    }

    private static int limit(String value) {
        if (value == null) {
            return LIST_MAX;
        }
        int n = nonNegative(value);
        if (n == 0) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "the limit must be at least 1");
        }
        return Math.min(n, LIST_MAX);
    }

    private static int nonNegative(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new S3Exception(S3Error.INVALID_ARGUMENT, "not a non-negative integer: " + value);
    }
}
