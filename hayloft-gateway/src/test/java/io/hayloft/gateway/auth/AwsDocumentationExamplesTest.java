package io.hayloft.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The worked examples of S3's Signature V4 documentation ("Examples: Signature Calculations",
 * "Authenticating Requests: Using Query Parameters" and the chunked upload example), with their
 * published signatures: credentials AKIAIOSFODNN7EXAMPLE, time 20130524T000000Z, bucket examplebucket.
 */
class AwsDocumentationExamplesTest {
    private static final String ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final String CREDENTIAL = ACCESS_KEY + "/20130524/us-east-1/s3/aws4_request";
    private final SigV4Verifier verifier = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false,
            Clock.fixed(Instant.parse("2013-05-24T00:05:00Z"), ZoneOffset.UTC));

    @Test
    void getObjectWithRange() {
        var request = new SignedRequest("GET", "/test.txt", "", Map.of(
                "host", List.of("examplebucket.s3.amazonaws.com"),
                "range", List.of("bytes=0-9"),
                "x-amz-content-sha256", List.of(EMPTY_SHA256),
                "x-amz-date", List.of("20130524T000000Z"),
                "authorization", List.of(authorization("host;range;x-amz-content-sha256;x-amz-date",
                        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))));
        assertThat(verifier.verify(request).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @Test
    void putObjectWithSignedPayload() throws Exception {
        byte[] body = "Welcome to Amazon S3.".getBytes(StandardCharsets.UTF_8);
        String payloadHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        assertThat(payloadHash).isEqualTo("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
        var request = new SignedRequest("PUT", "/test$file.text", "", Map.of(
                "host", List.of("examplebucket.s3.amazonaws.com"),
                "date", List.of("Fri, 24 May 2013 00:00:00 GMT"),
                "x-amz-date", List.of("20130524T000000Z"),
                "x-amz-storage-class", List.of("REDUCED_REDUNDANCY"),
                "x-amz-content-sha256", List.of(payloadHash),
                "authorization", List.of(authorization(
                        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))));
        Authentication authentication = verifier.verify(request);
        assertThat(authentication.body(new ByteArrayInputStream(body)).readAllBytes()).isEqualTo(body);
    }

    @Test
    void getBucketLifecycle() {
        var request = new SignedRequest("GET", "/", "lifecycle", Map.of(
                "host", List.of("examplebucket.s3.amazonaws.com"),
                "x-amz-date", List.of("20130524T000000Z"),
                "x-amz-content-sha256", List.of(EMPTY_SHA256),
                "authorization", List.of(authorization("host;x-amz-content-sha256;x-amz-date",
                        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))));
        assertThat(verifier.verify(request).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @Test
    void listObjects() {
        var request = new SignedRequest("GET", "/", "max-keys=2&prefix=J", Map.of(
                "host", List.of("examplebucket.s3.amazonaws.com"),
                "x-amz-date", List.of("20130524T000000Z"),
                "x-amz-content-sha256", List.of(EMPTY_SHA256),
                "authorization", List.of(authorization("host;x-amz-content-sha256;x-amz-date",
                        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))));
        assertThat(verifier.verify(request).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @Test
    void presignedGet() {
        String query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
                + "%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        var request = new SignedRequest("GET", "/test.txt", query,
                Map.of("host", List.of("examplebucket.s3.amazonaws.com")));
        Authentication authentication = verifier.verify(request);
        assertThat(authentication.accessKey()).isEqualTo(ACCESS_KEY);
        assertThat(authentication.decodedLength()).isEqualTo(-1);
    }

    @Test
    void chunkedUpload() throws Exception {
        var request = new SignedRequest("PUT", "/examplebucket/chunkObject.txt", "", Map.of(
                "host", List.of("s3.amazonaws.com"),
                "x-amz-date", List.of("20130524T000000Z"),
                "x-amz-storage-class", List.of("REDUCED_REDUNDANCY"),
                "x-amz-content-sha256", List.of("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
                "content-encoding", List.of("aws-chunked"),
                "x-amz-decoded-content-length", List.of("66560"),
                "content-length", List.of("66824"),
                "authorization", List.of(authorization("content-encoding;content-length;host;x-amz-content-sha256;"
                        + "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"))));
        byte[] first = filled(65536);
        byte[] second = filled(1024);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        chunk(wire, first, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        chunk(wire, second, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
        chunk(wire, new byte[0], "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
        wire.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(wire.size()).isEqualTo(66824);

        Authentication authentication = verifier.verify(request);
        assertThat(authentication.decodedLength()).isEqualTo(66560);
        InputStream body = authentication.body(new ByteArrayInputStream(wire.toByteArray()));
        assertThat(body.readAllBytes()).isEqualTo(filled(66560));
    }

    private static String authorization(String signedHeaders, String signature) {
        return "AWS4-HMAC-SHA256 Credential=" + CREDENTIAL + ",SignedHeaders=" + signedHeaders + ",Signature=" + signature;
    }

    private static byte[] filled(int size) {
        byte[] data = new byte[size];
        Arrays.fill(data, (byte) 'a');
        return data;
    }

    private static void chunk(ByteArrayOutputStream wire, byte[] data, String signature) {
        wire.writeBytes((Integer.toHexString(data.length) + ";chunk-signature=" + signature + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        wire.writeBytes(data);
        if (data.length > 0) {
            wire.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
    }
}
