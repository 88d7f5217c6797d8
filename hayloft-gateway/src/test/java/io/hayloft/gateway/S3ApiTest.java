package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.DeletedObject;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** Every S3 operation the gateway offers, through the AWS SDK for Java v2, against a real cluster. */
class S3ApiTest {
    @TempDir
    static Path dir;
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = GatewayFixture.start(dir, GatewayFixture.config());
        s3 = fx.s3();
    }

    @AfterAll
    static void stop() throws Exception {
        if (s3 != null) {
            s3.close();
        }
        if (fx != null) {
            fx.close();
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String md5Hex(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    static void assertS3Error(Runnable call, int status, String code) {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(software.amazon.awssdk.services.s3.model.S3Exception.class, e -> {
                    assertThat(e.statusCode()).as("status").isEqualTo(status);
                    if (code != null) {
                        assertThat(e.awsErrorDetails().errorCode()).as("code").isEqualTo(code);
                    }
                });
    }

    @Test
    void bucketsAreCreatedListedAndDeletedOnlyWhenEmpty() {
        s3.createBucket(b -> b.bucket("buckets-1"));
        s3.headBucket(b -> b.bucket("buckets-1"));
        assertThat(s3.listBuckets().buckets()).anySatisfy(b -> assertThat(b.name()).isEqualTo("buckets-1"));
        assertS3Error(() -> s3.createBucket(b -> b.bucket("buckets-1")), 409, "BucketAlreadyOwnedByYou");
        assertThat(s3.getBucketLocation(b -> b.bucket("buckets-1")).locationConstraintAsString()).isNullOrEmpty();
        assertThat(s3.getBucketVersioning(b -> b.bucket("buckets-1")).status()).isNull();

        s3.putObject(b -> b.bucket("buckets-1").key("k"), RequestBody.fromString("x"));
        assertS3Error(() -> s3.deleteBucket(b -> b.bucket("buckets-1")), 409, "BucketNotEmpty");
        s3.deleteObject(b -> b.bucket("buckets-1").key("k"));
        s3.deleteBucket(b -> b.bucket("buckets-1"));
        assertS3Error(() -> s3.headBucket(b -> b.bucket("buckets-1")), 404, null);
        assertS3Error(() -> s3.deleteBucket(b -> b.bucket("buckets-1")), 404, "NoSuchBucket");
        assertS3Error(() -> s3.listObjects(b -> b.bucket("buckets-1")), 404, "NoSuchBucket");
    }

    @Test
    void objectsKeepTheirBytesAndAttributes() throws Exception {
        s3.createBucket(b -> b.bucket("objects"));
        byte[] data = random(700_000, 1);  // three chunks of 256 KiB
        var put = s3.putObject(b -> b.bucket("objects").key("dir/photo one+two.jpg").contentType("image/jpeg")
                .contentEncoding("identity").contentDisposition("attachment; filename=\"a.jpg\"")
                .cacheControl("max-age=60").metadata(Map.of("camera", "x100", "place", "barn")),
                RequestBody.fromBytes(data));
        assertThat(put.eTag()).isEqualTo("\"" + md5Hex(data) + "\"");

        ResponseBytes<GetObjectResponse> got = s3.getObjectAsBytes(b -> b.bucket("objects").key("dir/photo one+two.jpg"));
        assertThat(got.asByteArray()).isEqualTo(data);
        GetObjectResponse r = got.response();
        assertThat(r.contentType()).isEqualTo("image/jpeg");
        assertThat(r.contentEncoding()).isEqualTo("identity");
        assertThat(r.contentDisposition()).isEqualTo("attachment; filename=\"a.jpg\"");
        assertThat(r.cacheControl()).isEqualTo("max-age=60");
        assertThat(r.metadata()).containsEntry("camera", "x100").containsEntry("place", "barn");
        assertThat(r.eTag()).isEqualTo(put.eTag());

        HeadObjectResponse head = s3.headObject(b -> b.bucket("objects").key("dir/photo one+two.jpg"));
        assertThat(head.contentLength()).isEqualTo(data.length);
        assertThat(head.eTag()).isEqualTo(put.eTag());
        assertThat(head.metadata()).containsEntry("camera", "x100");

        // Overwrite, then delete.
        s3.putObject(b -> b.bucket("objects").key("dir/photo one+two.jpg"), RequestBody.fromString("small"));
        assertThat(s3.getObjectAsBytes(b -> b.bucket("objects").key("dir/photo one+two.jpg")).asUtf8String())
                .isEqualTo("small");
        s3.deleteObject(b -> b.bucket("objects").key("dir/photo one+two.jpg"));
        assertS3Error(() -> s3.getObjectAsBytes(b -> b.bucket("objects").key("dir/photo one+two.jpg")), 404,
                "NoSuchKey");
        assertS3Error(() -> s3.headObject(b -> b.bucket("objects").key("dir/photo one+two.jpg")), 404, null);
        // Deleting what is not there succeeds, as in S3.
        s3.deleteObject(b -> b.bucket("objects").key("never-was"));
        assertS3Error(() -> s3.getObjectAsBytes(b -> b.bucket("no-such-bucket").key("k")), 404, "NoSuchBucket");

        // Empty objects and unicode keys.
        s3.putObject(b -> b.bucket("objects").key("empty"), RequestBody.empty());
        assertThat(s3.getObjectAsBytes(b -> b.bucket("objects").key("empty")).asByteArray()).isEmpty();
        s3.putObject(b -> b.bucket("objects").key("héllo/wörld ✓ ~!*'()"), RequestBody.fromString("u"));
        assertThat(s3.getObjectAsBytes(b -> b.bucket("objects").key("héllo/wörld ✓ ~!*'()")).asUtf8String())
                .isEqualTo("u");
    }

    @Test
    void rangesAtTheEdges() {
        s3.createBucket(b -> b.bucket("ranges"));
        byte[] data = random(600_000, 2);
        s3.putObject(b -> b.bucket("ranges").key("r"), RequestBody.fromBytes(data));
        assertThat(range("bytes=0-0")).containsExactly(data[0]);
        assertThat(range("bytes=599999-599999")).containsExactly(data[599_999]);
        assertThat(range("bytes=-10")).isEqualTo(java.util.Arrays.copyOfRange(data, 599_990, 600_000));
        assertThat(range("bytes=262140-262150")).isEqualTo(java.util.Arrays.copyOfRange(data, 262_140, 262_151));
        assertThat(range("bytes=599990-")).isEqualTo(java.util.Arrays.copyOfRange(data, 599_990, 600_000));
        assertThat(range("bytes=599990-700000")).isEqualTo(java.util.Arrays.copyOfRange(data, 599_990, 600_000));
        var r = s3.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=10-19")).response();
        assertThat(r.contentRange()).isEqualTo("bytes 10-19/600000");
        assertS3Error(() -> range("bytes=600000-"), 416, "InvalidRange");
        assertS3Error(() -> range("bytes=700000-700001"), 416, "InvalidRange");
    }

    private byte[] range(String range) {
        return s3.getObjectAsBytes(b -> b.bucket("ranges").key("r").range(range)).asByteArray();
    }

    @Test
    void conditionalGetsAndHeads() {
        s3.createBucket(b -> b.bucket("conditions"));
        String etag = s3.putObject(b -> b.bucket("conditions").key("c"), RequestBody.fromString("v1")).eTag();
        Instant past = Instant.now().minus(Duration.ofDays(1));
        Instant future = Instant.now().plus(Duration.ofDays(1));

        assertThat(s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifMatch(etag)).asUtf8String()).isEqualTo("v1");
        assertS3Error(() -> s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifMatch("\"other\"")), 412,
                "PreconditionFailed");
        assertS3Error(() -> s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifNoneMatch(etag)), 304, null);
        assertThat(s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifNoneMatch("\"other\"")).asUtf8String())
                .isEqualTo("v1");
        assertS3Error(() -> s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifModifiedSince(future)), 304, null);
        assertThat(s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifModifiedSince(past)).asUtf8String())
                .isEqualTo("v1");
        assertS3Error(() -> s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifUnmodifiedSince(past)), 412,
                "PreconditionFailed");
        assertThat(s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifUnmodifiedSince(future)).asUtf8String())
                .isEqualTo("v1");
        // If-Match holds, so If-Unmodified-Since is not looked at (RFC 9110, as S3 does).
        assertThat(s3.getObjectAsBytes(b -> b.bucket("conditions").key("c").ifMatch(etag).ifUnmodifiedSince(past))
                .asUtf8String()).isEqualTo("v1");
        assertS3Error(() -> s3.headObject(b -> b.bucket("conditions").key("c").ifMatch("\"other\"")), 412, null);
        assertS3Error(() -> s3.headObject(b -> b.bucket("conditions").key("c").ifNoneMatch(etag)), 304, null);
    }

    @Test
    void deleteObjectsInOneCall() {
        s3.createBucket(b -> b.bucket("batch"));
        List<ObjectIdentifier> ids = new ArrayList<>();
        // More keys than are deleted at once, answered in the order asked.
        for (int i = 0; i < 300; i++) {
            String key = "k" + i;
            s3.putObject(b -> b.bucket("batch").key(key), RequestBody.fromString(key));
            ids.add(ObjectIdentifier.builder().key(key).build());
        }
        ids.add(ObjectIdentifier.builder().key("missing").build());
        String tooLong = "x".repeat(1025);
        ids.add(150, ObjectIdentifier.builder().key(tooLong).build());
        DeleteObjectsResponse r = s3.deleteObjects(b -> b.bucket("batch").delete(d -> d.objects(ids)));
        List<String> asked = ids.stream().map(ObjectIdentifier::key).filter(k -> !k.equals(tooLong)).toList();
        assertThat(r.deleted()).extracting(DeletedObject::key).containsExactlyElementsOf(asked);
        assertThat(r.errors()).singleElement().satisfies(e -> {
            assertThat(e.key()).isEqualTo(tooLong);
            assertThat(e.code()).isEqualTo("KeyTooLongError");
        });
        assertThat(s3.listObjectsV2(b -> b.bucket("batch")).contents()).isEmpty();
        DeleteObjectsResponse quiet = s3.deleteObjects(b -> b.bucket("batch").delete(d -> d.objects(ids).quiet(true)));
        assertThat(quiet.deleted()).isEmpty();
        assertThat(quiet.errors()).extracting(S3Error::key).containsExactly(tooLong);
        assertS3Error(() -> s3.deleteObjects(b -> b.bucket("no-such-batch").delete(d -> d.objects(ids))), 404,
                "NoSuchBucket");
    }

    @Test
    void copyObjectKeepsOrReplacesMetadata() {
        s3.createBucket(b -> b.bucket("copies"));
        byte[] data = random(300_000, 3);
        s3.putObject(b -> b.bucket("copies").key("src").contentType("text/plain").metadata(Map.of("a", "1")),
                RequestBody.fromBytes(data));
        CopyObjectResponse c = s3.copyObject(b -> b.sourceBucket("copies").sourceKey("src")
                .destinationBucket("copies").destinationKey("dst"));
        var got = s3.getObjectAsBytes(b -> b.bucket("copies").key("dst"));
        assertThat(got.asByteArray()).isEqualTo(data);
        assertThat(got.response().metadata()).containsEntry("a", "1");
        assertThat(got.response().contentType()).isEqualTo("text/plain");
        assertThat(c.copyObjectResult().eTag()).isEqualTo(got.response().eTag());

        s3.copyObject(b -> b.sourceBucket("copies").sourceKey("src").destinationBucket("copies").destinationKey("dst2")
                .metadataDirective(MetadataDirective.REPLACE).contentType("image/png").metadata(Map.of("b", "2")));
        HeadObjectResponse h = s3.headObject(b -> b.bucket("copies").key("dst2"));
        assertThat(h.metadata()).containsOnlyKeys("b");
        assertThat(h.contentType()).isEqualTo("image/png");

        // The copy has blobs of its own: deleting the source leaves it whole.
        s3.deleteObject(b -> b.bucket("copies").key("src"));
        assertThat(s3.getObjectAsBytes(b -> b.bucket("copies").key("dst")).asByteArray()).isEqualTo(data);

        assertS3Error(() -> s3.copyObject(b -> b.sourceBucket("copies").sourceKey("dst")
                .destinationBucket("copies").destinationKey("dst")), 400, "InvalidRequest");
        assertS3Error(() -> s3.copyObject(b -> b.sourceBucket("copies").sourceKey("nope")
                .destinationBucket("copies").destinationKey("x")), 404, "NoSuchKey");
        assertS3Error(() -> s3.copyObject(b -> b.sourceBucket("copies").sourceKey("dst")
                .destinationBucket("copies").destinationKey("x").copySourceIfMatch("\"nope\"")), 412,
                "PreconditionFailed");
    }

    @Test
    void listingsOf2500KeysWithDelimitersAndPages() {
        s3.createBucket(b -> b.bucket("listing"));
        List<String> keys = new ArrayList<>();
        for (int d = 0; d < 5; d++) {
            for (int i = 0; i < 500; i++) {
                keys.add(String.format("dir%d/file%04d", d, i));
            }
        }
        keys.parallelStream().forEach(k -> s3.putObject(b -> b.bucket("listing").key(k), RequestBody.fromString(k)));
        s3.putObject(b -> b.bucket("listing").key("top level"), RequestBody.fromString("t"));

        // V2, all pages, 1,000 per page.
        List<String> seen = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            String t = token;
            ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket("listing").continuationToken(t));
            page.contents().forEach(o -> seen.add(o.key()));
            token = page.isTruncated() ? page.nextContinuationToken() : null;
            pages++;
        } while (token != null);
        assertThat(pages).isEqualTo(3);
        List<String> expected = new ArrayList<>(keys);
        expected.add("top level");
        expected.sort(null);
        assertThat(seen).isEqualTo(expected);

        // Delimiter: five common prefixes and one key.
        ListObjectsV2Response top = s3.listObjectsV2(b -> b.bucket("listing").delimiter("/"));
        assertThat(top.commonPrefixes()).extracting(CommonPrefix::prefix)
                .containsExactly("dir0/", "dir1/", "dir2/", "dir3/", "dir4/");
        assertThat(top.contents()).extracting(S3Object::key).containsExactly("top level");
        assertThat(top.keyCount()).isEqualTo(6);

        // Pages of 2 over common prefixes.
        ListObjectsV2Response p1 = s3.listObjectsV2(b -> b.bucket("listing").delimiter("/").maxKeys(2));
        assertThat(p1.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("dir0/", "dir1/");
        assertThat(p1.isTruncated()).isTrue();
        ListObjectsV2Response p2 = s3.listObjectsV2(b -> b.bucket("listing").delimiter("/").maxKeys(2)
                .continuationToken(p1.nextContinuationToken()));
        assertThat(p2.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("dir2/", "dir3/");

        // Prefix, start-after, V1 markers, url encoding.
        ListObjectsV2Response pre = s3.listObjectsV2(b -> b.bucket("listing").prefix("dir3/file04").startAfter(
                "dir3/file0450"));
        assertThat(pre.contents()).extracting(S3Object::key).hasSize(49).first().isEqualTo("dir3/file0451");
        ListObjectsResponse v1 = s3.listObjects(b -> b.bucket("listing").prefix("dir1/").maxKeys(100)
                .marker("dir1/file0199").delimiter("/"));
        assertThat(v1.contents()).hasSize(100);
        assertThat(v1.contents().getFirst().key()).isEqualTo("dir1/file0200");
        assertThat(v1.isTruncated()).isTrue();
        assertThat(v1.nextMarker()).isEqualTo("dir1/file0299");
        ListObjectsV2Response enc = s3.listObjectsV2(b -> b.bucket("listing").prefix("top ")
                .encodingType(EncodingType.URL));
        assertThat(enc.contents()).extracting(S3Object::key).containsExactly("top level");
        assertThat(s3.listObjectsV2(b -> b.bucket("listing").maxKeys(0)).contents()).isEmpty();
    }

    @Test
    void aThreePartMultipartUpload() throws Exception {
        s3.createBucket(b -> b.bucket("multipart"));
        byte[][] parts = {random(5 << 20, 10), random(5 << 20, 11), random(1 << 20, 12)};
        String id = s3.createMultipartUpload(b -> b.bucket("multipart").key("big").contentType("video/mp4")
                .metadata(Map.of("k", "v"))).uploadId();
        List<CompletedPart> done = new ArrayList<>();
        MessageDigest etags = MessageDigest.getInstance("MD5");
        for (int i = 0; i < 3; i++) {
            int n = i + 1;
            byte[] p = parts[i];
            String etag = s3.uploadPart(b -> b.bucket("multipart").key("big").uploadId(id).partNumber(n),
                    RequestBody.fromBytes(p)).eTag();
            assertThat(etag).isEqualTo("\"" + md5Hex(p) + "\"");
            etags.update(HexFormat.of().parseHex(md5Hex(p)));
            done.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
        }
        ListPartsResponse listed = s3.listParts(b -> b.bucket("multipart").key("big").uploadId(id));
        assertThat(listed.parts()).extracting(p -> p.partNumber()).containsExactly(1, 2, 3);
        assertThat(listed.parts().get(2).size()).isEqualTo(1 << 20);
        ListMultipartUploadsResponse uploads = s3.listMultipartUploads(b -> b.bucket("multipart"));
        assertThat(uploads.uploads()).anySatisfy(u -> assertThat(u.uploadId()).isEqualTo(id));

        // Wrong orders and tags are refused and leave the upload as it was.
        assertS3Error(() -> s3.completeMultipartUpload(b -> b.bucket("multipart").key("big").uploadId(id)
                .multipartUpload(CompletedMultipartUpload.builder().parts(done.get(1), done.get(0)).build())), 400,
                "InvalidPartOrder");
        assertS3Error(() -> s3.completeMultipartUpload(b -> b.bucket("multipart").key("big").uploadId(id)
                .multipartUpload(CompletedMultipartUpload.builder().parts(
                        CompletedPart.builder().partNumber(1).eTag("\"00000000000000000000000000000000\"").build())
                        .build())), 400, "InvalidPart");
        assertS3Error(() -> s3.completeMultipartUpload(b -> b.bucket("multipart").key("big").uploadId(id)
                .multipartUpload(CompletedMultipartUpload.builder().parts(done.get(2), 
                        CompletedPart.builder().partNumber(4).eTag(done.get(2).eTag()).build()).build())), 400,
                "InvalidPart");

        var complete = s3.completeMultipartUpload(b -> b.bucket("multipart").key("big").uploadId(id)
                .multipartUpload(CompletedMultipartUpload.builder().parts(done).build()));
        assertThat(complete.eTag()).isEqualTo("\"" + HexFormat.of().formatHex(etags.digest()) + "-3\"");
        var got = s3.getObjectAsBytes(b -> b.bucket("multipart").key("big"));
        byte[] whole = new byte[(11 << 20)];
        System.arraycopy(parts[0], 0, whole, 0, 5 << 20);
        System.arraycopy(parts[1], 0, whole, 5 << 20, 5 << 20);
        System.arraycopy(parts[2], 0, whole, 10 << 20, 1 << 20);
        assertThat(got.asByteArray()).isEqualTo(whole);
        assertThat(got.response().contentType()).isEqualTo("video/mp4");
        assertThat(got.response().metadata()).containsEntry("k", "v");
        assertThat(s3.getObjectAsBytes(b -> b.bucket("multipart").key("big").range("bytes=5242878-5242881"))
                .asByteArray()).isEqualTo(java.util.Arrays.copyOfRange(whole, 5242878, 5242882));
        assertS3Error(() -> s3.listParts(b -> b.bucket("multipart").key("big").uploadId(id)), 404, "NoSuchUpload");
    }

    @Test
    void multipartAbortAndSmallParts() {
        s3.createBucket(b -> b.bucket("multipart-abort"));
        String id = s3.createMultipartUpload(b -> b.bucket("multipart-abort").key("k")).uploadId();
        String e1 = s3.uploadPart(b -> b.bucket("multipart-abort").key("k").uploadId(id).partNumber(1),
                RequestBody.fromString("small one")).eTag();
        String e2 = s3.uploadPart(b -> b.bucket("multipart-abort").key("k").uploadId(id).partNumber(2),
                RequestBody.fromString("small two")).eTag();
        assertS3Error(() -> s3.completeMultipartUpload(b -> b.bucket("multipart-abort").key("k").uploadId(id)
                .multipartUpload(CompletedMultipartUpload.builder().parts(
                        CompletedPart.builder().partNumber(1).eTag(e1).build(),
                        CompletedPart.builder().partNumber(2).eTag(e2).build()).build())), 400, "EntityTooSmall");
        assertS3Error(() -> s3.deleteBucket(b -> b.bucket("multipart-abort")), 409, "BucketNotEmpty");
        s3.abortMultipartUpload(b -> b.bucket("multipart-abort").key("k").uploadId(id));
        assertS3Error(() -> s3.abortMultipartUpload(b -> b.bucket("multipart-abort").key("k").uploadId(id)), 404,
                "NoSuchUpload");
        assertS3Error(() -> s3.uploadPart(b -> b.bucket("multipart-abort").key("k").uploadId("nope").partNumber(1),
                RequestBody.fromString("x")), 404, "NoSuchUpload");
        assertS3Error(() -> s3.uploadPart(b -> b.bucket("multipart-abort").key("k").uploadId(id).partNumber(10001),
                RequestBody.fromString("x")), 400, "InvalidArgument");
        s3.deleteBucket(b -> b.bucket("multipart-abort"));
    }

    @Test
    void presignedGetAndPut() throws Exception {
        s3.createBucket(b -> b.bucket("presigned"));
        try (S3Presigner p = fx.presigner()) {
            URL put = p.presignPutObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .putObjectRequest(o -> o.bucket("presigned").key("via url"))).url();
            HttpURLConnection c = (HttpURLConnection) put.openConnection();
            c.setRequestMethod("PUT");
            c.setDoOutput(true);
            c.getOutputStream().write("through a link".getBytes(StandardCharsets.UTF_8));
            assertThat(c.getResponseCode()).isEqualTo(200);

            URL get = p.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .getObjectRequest(o -> o.bucket("presigned").key("via url"))).url();
            HttpURLConnection g = (HttpURLConnection) get.openConnection();
            assertThat(g.getResponseCode()).isEqualTo(200);
            assertThat(new String(g.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("through a link");
        }
    }

    @Test
    void requestsMustBeSignedWithAKnownKey() throws Exception {
        try (S3Client wrongSecret = fx.s3(GatewayFixture.ACCESS_KEY, "not-the-secret");
                S3Client unknownKey = fx.s3("nobody", GatewayFixture.SECRET_KEY)) {
            assertS3Error(wrongSecret::listBuckets, 403, "SignatureDoesNotMatch");
            assertS3Error(unknownKey::listBuckets, 403, "InvalidAccessKeyId");
            assertS3Error(() -> wrongSecret.putObject(b -> b.bucket("objects").key("x"), RequestBody.fromString("x")),
                    403, "SignatureDoesNotMatch");
        }
        HttpURLConnection c = (HttpURLConnection) fx.endpoint().resolve("/").toURL().openConnection();
        assertThat(c.getResponseCode()).isEqualTo(403);
        assertThat(body(c)).contains("<Code>AccessDenied</Code>");
    }

    @Test
    void healthAndReadinessProbes() throws Exception {
        for (String probe : List.of("/health", "/ready")) {
            HttpURLConnection c = (HttpURLConnection) fx.endpoint().resolve(probe).toURL().openConnection();
            assertThat(c.getResponseCode()).as(probe).isEqualTo(200);
        }
    }

    static String body(HttpURLConnection c) throws IOException {
        var in = c.getErrorStream() != null ? c.getErrorStream() : c.getInputStream();
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
