package io.hayloft.gateway.auth;

import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.ACCESS_KEY;
import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.CLOCK;
import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.SECRET;
import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.randomBytes;
import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.http.SdkHttpMethod;

/** Forged, altered, stale and malformed requests are refused with the code S3 answers. */
class SigV4RejectionTest {
    private final SigV4Verifier verifier = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, CLOCK);

    @Test
    void wrongSecretDoesNotMatch() {
        var signed = sign("k", null, SdkSigning.Options.header(true), "wrong secret");
        assertRejected(() -> verifier.verify(signed.request()), S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void unknownAccessKey() {
        var signed = SdkSigning.sign(request(SdkHttpMethod.GET, "http", "k").build(), null, "NOSUCHKEY", SECRET, CLOCK,
                SdkSigning.Options.header(true));
        assertRejected(() -> verifier.verify(signed.request()), S3Error.INVALID_ACCESS_KEY_ID);
        var presigned = SdkSigning.sign(request(SdkHttpMethod.GET, "http", "k").build(), null, "NOSUCHKEY", SECRET,
                CLOCK, SdkSigning.Options.presigned(Duration.ofMinutes(5)));
        assertRejected(() -> verifier.verify(presigned.request()), S3Error.INVALID_ACCESS_KEY_ID);
    }

    @Test
    void tamperedHeaderPathOrQuery() {
        var signed = SdkSigning.sign(request(SdkHttpMethod.GET, "http", "dir/key").putHeader("x-amz-meta-a", "1")
                        .putRawQueryParameter("versionId", "v1").build(), null, ACCESS_KEY, SECRET, CLOCK,
                SdkSigning.Options.header(true));
        SignedRequest original = signed.request();
        assertThat(verifier.verify(original).accessKey()).isEqualTo(ACCESS_KEY);

        assertRejected(() -> verifier.verify(withHeader(original, "x-amz-meta-a", "2")), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verifier.verify(withHeader(original, "host", "elsewhere:9000")),
                S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verifier.verify(new SignedRequest("PUT", original.rawPath(), original.rawQuery(),
                original.headers())), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verifier.verify(new SignedRequest("GET", "/bucket/dir/kez", original.rawQuery(),
                original.headers())), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verifier.verify(new SignedRequest("GET", "/bucket/dir%2Fkey", original.rawQuery(),
                original.headers())), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verifier.verify(new SignedRequest("GET", original.rawPath(), "versionId=v2",
                original.headers())), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verifier.verify(new SignedRequest("GET", original.rawPath(), "versionId=v1&acl",
                original.headers())), S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void unsignedAmzHeaderIsRefused() {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        assertRejected(() -> verifier.verify(withHeader(signed.request(), "x-amz-copy-source", "/other/key")),
                S3Error.ACCESS_DENIED);
        var presigned = sign("k", null, SdkSigning.Options.presigned(Duration.ofMinutes(5)), SECRET);
        assertRejected(() -> verifier.verify(withHeader(presigned.request(), "x-amz-acl", "public-read")),
                S3Error.ACCESS_DENIED);
    }

    @Test
    void tamperedSignedPayload() throws Exception {
        byte[] body = randomBytes(5000, 1);
        var signed = sign("k", body, SdkSigning.Options.header(true), SECRET);
        Authentication authentication = verifier.verify(signed.request());
        byte[] altered = body.clone();
        altered[4321] ^= 1;
        var in = authentication.body(new ByteArrayInputStream(altered));
        assertRejected(in::readAllBytes, S3Error.X_AMZ_CONTENT_SHA256_MISMATCH);
        assertRejected(in::read, S3Error.X_AMZ_CONTENT_SHA256_MISMATCH);
        var shorter = authentication.body(new ByteArrayInputStream(Arrays.copyOf(body, 4999)));
        assertRejected(shorter::readAllBytes, S3Error.INCOMPLETE_BODY);
        var longer = authentication.body(new ByteArrayInputStream(Arrays.copyOf(body, 5001)));
        assertRejected(longer::readAllBytes, S3Error.X_AMZ_CONTENT_SHA256_MISMATCH);
    }

    @Test
    void everyFlippedByteOfASignedChunkedBodyIsCaught() {
        byte[] body = randomBytes(700, 2);
        var signed = sign("k", body, SdkSigning.Options.chunked(true, DefaultChecksumAlgorithm.CRC32C), SECRET);
        Authentication authentication = verifier.verify(signed.request());
        byte[] wire = signed.wireBody();
        for (int i = 0; i < wire.length; i++) {
            byte[] altered = wire.clone();
            altered[i] ^= 1;
            var in = authentication.body(new ByteArrayInputStream(altered));
            int position = i;
            assertThat(catchThrowable(in::readAllBytes)).as("flipped byte %d of %d", position, wire.length)
                    .isInstanceOf(S3Exception.class);
        }
    }

    @Test
    void flippedDataByteOfSignedChunkIsSignatureMismatch() {
        byte[] body = randomBytes(3 * SdkSignerCompatibilityTest.SDK_CHUNK, 3);
        var signed = sign("k", body, SdkSigning.Options.chunked(true, null), SECRET);
        byte[] wire = signed.wireBody();
        int secondChunkData = indexOf(wire, "\r\n", indexOf(wire, "\r\n", 0) + 2 + SdkSignerCompatibilityTest.SDK_CHUNK
                + 2) + 2;
        wire[secondChunkData + 10] ^= (byte) 0x80;
        var in = verifier.verify(signed.request()).body(new ByteArrayInputStream(wire));
        assertRejected(in::readAllBytes, S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void reorderedChunksAreCaught() throws Exception {
        int chunk = SdkSignerCompatibilityTest.SDK_CHUNK;
        byte[] body = randomBytes(2 * chunk, 4);
        var signed = sign("k", body, SdkSigning.Options.chunked(true, null), SECRET);
        byte[] wire = signed.wireBody();
        int firstLength = indexOf(wire, "\r\n", 0) + 2 + chunk + 2;
        int secondLength = indexOf(wire, "\r\n", firstLength) + 2 + chunk + 2;
        var swapped = new java.io.ByteArrayOutputStream();
        swapped.write(wire, firstLength, secondLength - firstLength);
        swapped.write(wire, 0, firstLength);
        swapped.write(wire, secondLength, wire.length - secondLength);
        var in = verifier.verify(signed.request()).body(new ByteArrayInputStream(swapped.toByteArray()));
        assertRejected(in::readAllBytes, S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void flippedDataByteUnderUnsignedTrailerIsBadDigest() {
        byte[] body = randomBytes(1000, 5);
        var signed = sign("k", body, SdkSigning.Options.chunked(false, DefaultChecksumAlgorithm.CRC32), SECRET);
        byte[] wire = signed.wireBody();
        wire[indexOf(wire, "\r\n", 0) + 2 + 500] ^= 1;
        var in = verifier.verify(signed.request()).body(new ByteArrayInputStream(wire));
        assertRejected(in::readAllBytes, S3Error.BAD_DIGEST);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void truncatedChunkedBodyIsIncompleteAtEveryCut(boolean signedChunks) {
        byte[] body = randomBytes(300, 6);
        var signed = sign("k", body, SdkSigning.Options.chunked(signedChunks, DefaultChecksumAlgorithm.SHA256), SECRET);
        Authentication authentication = verifier.verify(signed.request());
        byte[] wire = signed.wireBody();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int cut = 0; cut < wire.length; cut++) {
                var in = authentication.body(new ByteArrayInputStream(Arrays.copyOf(wire, cut)));
                int at = cut;
                assertThat(catchThrowable(in::readAllBytes)).as("cut at %d of %d", at, wire.length)
                        .isInstanceOfSatisfying(S3Exception.class,
                                e -> assertThat(e.error()).isEqualTo(S3Error.INCOMPLETE_BODY));
            }
        });
    }

    @Test
    void decodedLengthMustMatch() {
        byte[] body = randomBytes(100, 7);
        var signed = sign("k", body, SdkSigning.Options.chunked(true, null), SECRET);
        Map<String, List<String>> headers = new HashMap<>(signed.request().headers());
        headers.put("x-amz-decoded-content-length", List.of("101"));
        // the header is signed, so it cannot be changed to fit a different body
        assertRejected(() -> verifier.verify(new SignedRequest("PUT", signed.request().rawPath(), "", headers)),
                S3Error.SIGNATURE_DOES_NOT_MATCH);

        var anonymous = new SigV4Verifier(Map.of(), true, CLOCK);
        byte[] wire = "5\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (String declared : List.of("4", "6")) {
            Map<String, List<String>> unsigned = Map.of("host", List.of("h"),
                    "x-amz-content-sha256", List.of("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                    "content-encoding", List.of("aws-chunked"), "x-amz-decoded-content-length", List.of(declared));
            Authentication authentication = anonymous.verify(new SignedRequest("PUT", "/b/k", "", unsigned));
            assertThat(authentication.decodedLength()).isEqualTo(Long.parseLong(declared));
            var in = authentication.body(new ByteArrayInputStream(wire));
            assertRejected(in::readAllBytes, S3Error.INCOMPLETE_BODY);
        }
    }

    @Test
    void oversizedChunkIsRefusedBeforeReadingIt() {
        var signed = sign("k", new byte[0], SdkSigning.Options.chunked(false, DefaultChecksumAlgorithm.CRC32), SECRET);
        byte[] wire = "1000001\r\n".getBytes(StandardCharsets.US_ASCII);
        var in = verifier.verify(signed.request()).body(new ByteArrayInputStream(wire));
        assertRejected(in::readAllBytes, S3Error.INVALID_REQUEST);
    }

    @Test
    void uncomputableChecksumTrailerIsIgnored() throws Exception {
        Map<String, List<String>> headers = Map.of("host", List.of("h"),
                "x-amz-content-sha256", List.of("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                "content-encoding", List.of("aws-chunked"), "x-amz-trailer", List.of("x-amz-checksum-crc64nvme"),
                "x-amz-decoded-content-length", List.of("5"));
        var anonymous = new SigV4Verifier(Map.of(), true, CLOCK);
        byte[] wire = "5\r\nhello\r\n0\r\nx-amz-checksum-crc64nvme:AAAAAAAAAAA=\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        var in = anonymous.verify(new SignedRequest("PUT", "/b/k", "", headers)).body(new ByteArrayInputStream(wire));
        assertThat(in.readAllBytes()).isEqualTo("hello".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void missingDeclaredChecksumTrailer() {
        Map<String, List<String>> headers = Map.of("host", List.of("h"),
                "x-amz-content-sha256", List.of("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                "content-encoding", List.of("aws-chunked"), "x-amz-trailer", List.of("x-amz-checksum-crc32"));
        var anonymous = new SigV4Verifier(Map.of(), true, CLOCK);
        byte[] wire = "5\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        var in = anonymous.verify(new SignedRequest("PUT", "/b/k", "", headers)).body(new ByteArrayInputStream(wire));
        assertRejected(in::readAllBytes, S3Error.INVALID_REQUEST);
    }

    @Test
    void expiredPresignedUrl() {
        var presigned = sign("k", null, SdkSigning.Options.presigned(Duration.ofMinutes(10)), SECRET);
        var later = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false,
                Clock.offset(CLOCK, Duration.ofMinutes(10).plusSeconds(1)));
        assertThatThrownBy(() -> later.verify(presigned.request())).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
            assertThat(e.getMessage()).isEqualTo("Request has expired");
        });
        var justInTime = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false,
                Clock.offset(CLOCK, Duration.ofMinutes(10)));
        assertThat(justInTime.verify(presigned.request()).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @Test
    void presignedExpiryBounds() {
        var presigned = sign("k", null, SdkSigning.Options.presigned(Duration.ofMinutes(10)), SECRET);
        for (String expires : List.of("0", "604801", "-1", "ten")) {
            String query = presigned.request().rawQuery().replace("X-Amz-Expires=600", "X-Amz-Expires=" + expires);
            assertRejected(() -> verifier.verify(new SignedRequest("GET", presigned.request().rawPath(), query,
                    presigned.request().headers())), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        }
        String otherAlgorithm = presigned.request().rawQuery().replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1");
        assertRejected(() -> verifier.verify(new SignedRequest("GET", presigned.request().rawPath(), otherAlgorithm,
                presigned.request().headers())), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        String noSignature = presigned.request().rawQuery().replaceAll("&?X-Amz-Signature=[0-9a-f]+", "");
        assertRejected(() -> verifier.verify(new SignedRequest("GET", presigned.request().rawPath(), noSignature,
                presigned.request().headers())), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
    }

    @Test
    void skewedRequestTime() {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        for (Duration skew : List.of(Duration.ofMinutes(16), Duration.ofMinutes(-16), Duration.ofDays(1))) {
            var elsewhen = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, Clock.offset(CLOCK, skew));
            assertRejected(() -> elsewhen.verify(signed.request()), S3Error.REQUEST_TIME_TOO_SKEWED);
        }
        var nearly = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, Clock.offset(CLOCK, Duration.ofMinutes(14)));
        assertThat(nearly.verify(signed.request()).accessKey()).isEqualTo(ACCESS_KEY);
        var future = sign("k", null, SdkSigning.Options.presigned(Duration.ofHours(1)), SECRET);
        var past = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, Clock.offset(CLOCK, Duration.ofMinutes(-16)));
        assertRejected(() -> past.verify(future.request()), S3Error.REQUEST_TIME_TOO_SKEWED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 garbage", "garbage",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250304/us-east-1/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250304/us-east-1/s3/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/2025-03-04/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250304/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250304/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250304/us-east-1/s3/aws4_request, SignedHeaders=, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20250304/us-east-1/s3/aws4_request, Credential=b, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250304/us-east-1/s3/aws4_request, SignedHeaders=date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=HAYLOFTTESTKEY/20250303/us-east-1/s3/aws4_request, SignedHeaders=host;"
                    + "x-amz-content-sha256;x-amz-date, Signature=00"})
    void malformedAuthorizationHeader(String authorization) {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        assertRejected(() -> verifier.verify(withHeader(signed.request(), "authorization", authorization)),
                S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"AWS HAYLOFTTESTKEY:c2lnbmF0dXJl", "AWS4-ECDSA-P256-SHA256 Credential=x"})
    void otherSignatureVersionsAreNotSupported(String authorization) {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        assertRejected(() -> verifier.verify(withHeader(signed.request(), "authorization", authorization)),
                S3Error.INVALID_REQUEST);
    }

    @Test
    void payloadHashHeader() {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        Map<String, List<String>> headers = new HashMap<>(signed.request().headers());
        headers.remove("x-amz-content-sha256");
        assertRejected(() -> verifier.verify(new SignedRequest("GET", signed.request().rawPath(), "", headers)),
                S3Error.INVALID_REQUEST);
        assertRejected(() -> verifier.verify(withHeader(signed.request(), "x-amz-content-sha256", "abc")),
                S3Error.INVALID_ARGUMENT);
    }

    @Test
    void missingOrBadDate() {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        assertRejected(() -> verifier.verify(withHeader(signed.request(), "x-amz-date", "yesterday")),
                S3Error.ACCESS_DENIED);
        Map<String, List<String>> headers = new HashMap<>(signed.request().headers());
        headers.remove("x-amz-date");
        assertRejected(() -> verifier.verify(new SignedRequest("GET", signed.request().rawPath(), "", headers)),
                S3Error.ACCESS_DENIED);
    }

    @Test
    void headerAndQueryAuthenticationTogether() {
        var signed = sign("k", null, SdkSigning.Options.header(true), SECRET);
        var presigned = sign("k", null, SdkSigning.Options.presigned(Duration.ofMinutes(5)), SECRET);
        assertRejected(() -> verifier.verify(new SignedRequest("GET", signed.request().rawPath(),
                presigned.request().rawQuery(), signed.request().headers())), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void anonymousRequests() throws Exception {
        var request = new SignedRequest("GET", "/bucket/key", "", Map.of("host", List.of("h")));
        assertRejected(() -> verifier.verify(request), S3Error.ACCESS_DENIED);
        var open = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), true, CLOCK);
        Authentication anonymous = open.verify(request);
        assertThat(anonymous.accessKey()).isNull();
        assertThat(anonymous.decodedLength()).isEqualTo(-1);
        byte[] body = randomBytes(10, 8);
        assertThat(anonymous.body(new ByteArrayInputStream(body)).readAllBytes()).isEqualTo(body);
        // a signed request is still checked when anonymous requests are allowed
        var forged = sign("k", null, SdkSigning.Options.header(true), "wrong");
        assertRejected(() -> open.verify(forged.request()), S3Error.SIGNATURE_DOES_NOT_MATCH);
        // signed chunks need a signature to chain from
        var chunked = sign("k", new byte[3], SdkSigning.Options.chunked(true, null), SECRET);
        Map<String, List<String>> headers = new HashMap<>(chunked.request().headers());
        headers.remove("authorization");
        assertRejected(() -> open.verify(new SignedRequest("PUT", "/bucket/k", "", headers)), S3Error.INVALID_REQUEST);
    }

    private static SdkSigning.Signed sign(String key, byte[] body, SdkSigning.Options options, String secret) {
        String protocol = options.payloadSigning() || options.presign() ? "http" : "https";
        var request = request(body == null ? SdkHttpMethod.GET : SdkHttpMethod.PUT, protocol, key);
        if (body != null && !options.chunked()) {
            request.putHeader("Content-Length", Integer.toString(body.length));
        }
        return SdkSigning.sign(request.build(), body, ACCESS_KEY, secret, CLOCK, options);
    }

    private static SignedRequest withHeader(SignedRequest request, String name, String value) {
        Map<String, List<String>> headers = new HashMap<>(request.headers());
        headers.put(name, new ArrayList<>(List.of(value)));
        return new SignedRequest(request.method(), request.rawPath(), request.rawQuery(), headers);
    }

    private static int indexOf(byte[] data, String ascii, int from) {
        byte[] needle = ascii.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = from; i <= data.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found: " + ascii);
    }

    static void assertRejected(ThrowingCallable call, S3Error error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error())
                .as("%s: %s", e.error(), e.getMessage()).isEqualTo(error));
    }
}
