package io.hayloft.gateway.auth;

import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * What the AWS SDK's real S3 client sends (through an HTTP client that only records) verifies, and
 * uploads decode to the bytes given to the client: plain and TLS endpoints (signed and unsigned
 * aws-chunked uploads with checksum trailers), listings with odd prefixes, multipart parts, and
 * URLs from {@link S3Presigner}.
 */
class S3ClientCompatibilityTest {
    private static final String ACCESS_KEY = "HAYLOFTCLIENTKEY";
    private static final String SECRET = "client secret with spaces/and+plus";
    private static final StaticCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET));

    private final SigV4Verifier verifier = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, Clock.systemUTC());
    private final CapturingHttpClient http = new CapturingHttpClient();
    private final List<S3Client> clients = new ArrayList<>();

    @AfterEach
    void close() {
        clients.forEach(S3Client::close);
    }

    static Stream<Arguments> uploads() {
        List<String> keys = List.of("simple", "a key/with ü and 😀/+~=!*'()", "runs//of///slashes", "%41%2F");
        List<Integer> sizes = List.of(0, 1, 64 * 1024, 300 * 1024 + 3);
        return Stream.of("http", "https").flatMap(scheme -> keys.stream().flatMap(key ->
                sizes.stream().map(size -> Arguments.of(scheme, key, size))));
    }

    @ParameterizedTest
    @MethodSource("uploads")
    void putObject(String scheme, String key, int size) throws IOException {
        byte[] body = randomBytes(size, key.hashCode() + size);
        S3Client s3 = client(scheme);
        send(() -> s3.putObject(b -> b.bucket("bucket").key(key).metadata(Map.of("note", "  spaced   out ")),
                RequestBody.fromBytes(body)));
        assertThat(verifyAndRead(http.take())).isEqualTo(body);
    }

    @ParameterizedTest
    @MethodSource("uploads")
    void getHeadDelete(String scheme, String key, int ignoredSize) throws IOException {
        S3Client s3 = client(scheme);
        send(() -> s3.getObject(b -> b.bucket("bucket").key(key).range("bytes=0-9")).close());
        assertThat(verifyAndRead(http.take())).isEmpty();
        send(() -> s3.headObject(b -> b.bucket("bucket").key(key).versionId("v 1+2")));
        assertThat(verifyAndRead(http.take())).isEmpty();
        send(() -> s3.deleteObject(b -> b.bucket("bucket").key(key)));
        assertThat(verifyAndRead(http.take())).isEmpty();
    }

    @Test
    void putObjectWithEachChecksum() throws IOException {
        byte[] body = randomBytes(200_000, 9);
        for (String scheme : List.of("http", "https")) {
            for (ChecksumAlgorithm algorithm : List.of(ChecksumAlgorithm.CRC32, ChecksumAlgorithm.CRC32_C,
                    ChecksumAlgorithm.SHA1, ChecksumAlgorithm.SHA256)) {
                S3Client s3 = client(scheme);
                send(() -> s3.putObject(b -> b.bucket("bucket").key("sum").checksumAlgorithm(algorithm),
                        RequestBody.fromBytes(body)));
                SdkSigning.Signed sent = http.take();
                assertThat(sent.request().header("x-amz-content-sha256")).isEqualTo(scheme.equals("http")
                        ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" : "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
                assertThat(sent.request().header("x-amz-trailer")).as(scheme + " " + algorithm)
                        .isEqualTo("x-amz-checksum-" + algorithm.toString().toLowerCase(Locale.ROOT).replace("_", ""));
                assertThat(verifyAndRead(sent)).isEqualTo(body);
            }
        }
    }

    @Test
    void listingsAndMultipart() throws IOException {
        S3Client s3 = client("http");
        send(() -> s3.listObjectsV2(b -> b.bucket("bucket").prefix("a b+c=d&e/ü~*").delimiter("/")
                .startAfter("x%y").maxKeys(7)));
        assertThat(verifyAndRead(http.take())).isEmpty();
        send(() -> s3.listBuckets());
        assertThat(verifyAndRead(http.take())).isEmpty();

        byte[] part = randomBytes(70_000, 10);
        send(() -> s3.uploadPart(b -> b.bucket("bucket").key("big object").uploadId("upload/id+=").partNumber(2),
                RequestBody.fromBytes(part)));
        assertThat(verifyAndRead(http.take())).isEqualTo(part);

        send(() -> s3.deleteObjects(b -> b.bucket("bucket").delete(Delete.builder().objects(
                ObjectIdentifier.builder().key("one").build(), ObjectIdentifier.builder().key("two & <three>").build())
                .build())));
        SdkSigning.Signed delete = http.take();
        assertThat(new String(verifyAndRead(delete), java.nio.charset.StandardCharsets.UTF_8)).contains("<Key>one</Key>");
    }

    @ParameterizedTest
    @MethodSource("uploads")
    void presignedUrls(String scheme, String key, int size) throws IOException {
        try (S3Presigner presigner = S3Presigner.builder().region(Region.US_EAST_1).credentialsProvider(CREDENTIALS)
                .endpointOverride(URI.create(scheme + "://gateway.test:9000"))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build()) {
            var get = presigner.presignGetObject(p -> p.signatureDuration(Duration.ofMinutes(15))
                    .getObjectRequest(g -> g.bucket("bucket").key(key).responseContentType("text/plain; x=y")));
            assertThat(verifier.verify(fromUrl("GET", get.url(), get.signedHeaders())).accessKey())
                    .isEqualTo(ACCESS_KEY);

            byte[] body = randomBytes(size, size);
            var put = presigner.presignPutObject(p -> p.signatureDuration(Duration.ofDays(7))
                    .putObjectRequest(o -> o.bucket("bucket").key(key).contentType("application/x-thing")
                            .metadata(Map.of("owner", "me"))));
            Authentication authentication = verifier.verify(fromUrl("PUT", put.url(), put.signedHeaders()));
            assertThat(authentication.body(new ByteArrayInputStream(body)).readAllBytes()).isEqualTo(body);
        }
    }

    private S3Client client(String scheme) {
        S3Client client = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(CREDENTIALS)
                .endpointOverride(URI.create(scheme + "://gateway.test:9000")).forcePathStyle(true)
                .httpClient(http).build();
        clients.add(client);
        return client;
    }

    private byte[] verifyAndRead(SdkSigning.Signed sent) throws IOException {
        Authentication authentication = verifier.verify(sent.request());
        assertThat(authentication.accessKey()).isEqualTo(ACCESS_KEY);
        return authentication.body(new ByteArrayInputStream(sent.wireBody())).readAllBytes();
    }

    /** Sends a request; the recording client's empty answers may not parse, which does not matter here. */
    private static void send(ThrowingRunnable call) {
        try {
            call.run();
        } catch (SdkException | IOException e) {
            // the request was recorded before the answer was parsed
        }
    }

    private interface ThrowingRunnable {
        void run() throws IOException;
    }

    private static SignedRequest fromUrl(String method, URL url, Map<String, List<String>> signedHeaders) {
        Map<String, List<String>> headers = new TreeMap<>();
        signedHeaders.forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values));
        return new SignedRequest(method, url.getPath().isEmpty() ? "/" : URI.create(url.toString()).getRawPath(),
                url.getQuery() == null ? "" : URI.create(url.toString()).getRawQuery(), headers);
    }
}
