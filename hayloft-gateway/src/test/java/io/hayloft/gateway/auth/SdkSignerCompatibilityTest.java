package io.hayloft.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.checksums.spi.ChecksumAlgorithm;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/** Requests signed by the AWS SDK's own Signature V4 signer verify, and their bodies decode to what was sent. */
class SdkSignerCompatibilityTest {
    static final String ACCESS_KEY = "HAYLOFTTESTKEY";
    static final String SECRET = "hayloft/secret+key=with/odd~chars";
    static final Clock CLOCK = Clock.fixed(Instant.parse("2025-03-04T05:06:07Z"), ZoneOffset.UTC);
    /** The chunk size of the SDK's aws-chunked encoding. */
    static final int SDK_CHUNK = 128 * 1024;

    private final SigV4Verifier verifier = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, CLOCK);

    static Stream<String> keys() {
        return Stream.of("plain.txt", "with space.txt", "dir/sub/file", "unicode/ключ/日本語/😀",
                "plus+tilde~equals=amp&", "slash//runs///here", "/leading-slash", "trailing-slash/",
                "punctuation !'()*$,;:@[]{}^`|\"<>#", "percent%20literal%2F", "dots/./and/../x", "tab\tand\nnewline");
    }

    @ParameterizedTest
    @MethodSource("keys")
    void getWithHeaderSignature(String key) {
        var signed = SdkSigning.sign(request(SdkHttpMethod.GET, "http", key).build(), null, ACCESS_KEY, SECRET, CLOCK,
                SdkSigning.Options.header(true));
        assertThat(verifier.verify(signed.request()).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @ParameterizedTest
    @MethodSource("keys")
    void putWithSignedPayload(String key) throws IOException {
        byte[] body = randomBytes(1000, key.hashCode());
        var signed = SdkSigning.sign(request(SdkHttpMethod.PUT, "https", key).build(), body, ACCESS_KEY, SECRET, CLOCK,
                SdkSigning.Options.header(true));
        assertThat(signed.request().header("x-amz-content-sha256")).hasSize(64);
        assertThat(read(signed)).isEqualTo(body);
    }

    @ParameterizedTest
    @MethodSource("keys")
    void putWithUnsignedPayload(String key) throws IOException {
        byte[] body = randomBytes(333, key.hashCode());
        var signed = SdkSigning.sign(request(SdkHttpMethod.PUT, "https", key).build(), body, ACCESS_KEY, SECRET, CLOCK,
                SdkSigning.Options.header(false));
        assertThat(signed.request().header("x-amz-content-sha256")).isEqualTo("UNSIGNED-PAYLOAD");
        assertThat(read(signed)).isEqualTo(body);
    }

    @Test
    void queryParametersWithOddCharacters() {
        SdkHttpRequest request = request(SdkHttpMethod.GET, "http", "")
                .putRawQueryParameter("list-type", "2")
                .putRawQueryParameter("prefix", "a b+c=d&e/ü~*'()!")
                .putRawQueryParameter("delimiter", "/")
                .putRawQueryParameter("empty", "")
                .putRawQueryParameter("repeated", List.of("b", "a", "a b"))
                .putRawQueryParameter("uploads", (String) null)
                .putRawQueryParameter("ünïcödé kéy", "välue")
                .build();
        var signed = SdkSigning.sign(request, null, ACCESS_KEY, SECRET, CLOCK, SdkSigning.Options.header(true));
        assertThat(verifier.verify(signed.request()).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @Test
    void headersWithRunsOfSpacesAndSeveralValues() {
        SdkHttpRequest request = request(SdkHttpMethod.PUT, "https", "k")
                .putHeader("x-amz-meta-spaces", "  a   b \t c  ")
                .putHeader("x-amz-meta-multi", List.of("one", "two  three"))
                .putHeader("x-amz-meta-control", "a\u000bb\fc\t d")
                .putHeader("Content-Type", "text/plain; charset=utf-8")
                .build();
        var signed = SdkSigning.sign(request, new byte[0], ACCESS_KEY, SECRET, CLOCK, SdkSigning.Options.header(true));
        assertThat(verifier.verify(signed.request()).accessKey()).isEqualTo(ACCESS_KEY);
    }

    @ParameterizedTest
    @MethodSource("keys")
    void presignedGetAndPut(String key) throws IOException {
        var get = SdkSigning.sign(request(SdkHttpMethod.GET, "https", key).build(), null, ACCESS_KEY, SECRET, CLOCK,
                SdkSigning.Options.presigned(Duration.ofHours(1)));
        assertThat(get.request().rawQuery()).contains("X-Amz-Signature=");
        assertThat(verifier.verify(get.request()).accessKey()).isEqualTo(ACCESS_KEY);

        byte[] body = randomBytes(100, 7);
        var put = SdkSigning.sign(request(SdkHttpMethod.PUT, "https", key).putRawQueryParameter("partNumber", "3")
                        .build(), body, ACCESS_KEY, SECRET, CLOCK, SdkSigning.Options.presigned(Duration.ofDays(7)));
        assertThat(read(put)).isEqualTo(body);
    }

    static Stream<Arguments> chunkedCases() {
        List<Integer> sizes = List.of(0, 1, SDK_CHUNK - 1, SDK_CHUNK, SDK_CHUNK + 1, 3 * SDK_CHUNK + 17);
        List<ChecksumAlgorithm> checksums = java.util.Arrays.asList(null, DefaultChecksumAlgorithm.CRC32,
                DefaultChecksumAlgorithm.CRC32C, DefaultChecksumAlgorithm.SHA1, DefaultChecksumAlgorithm.SHA256);
        return sizes.stream().flatMap(size -> checksums.stream().map(checksum -> Arguments.of(size, checksum)));
    }

    @ParameterizedTest
    @MethodSource("chunkedCases")
    void chunkedWithSignedChunks(int size, ChecksumAlgorithm checksum) throws IOException {
        byte[] body = randomBytes(size, size);
        var signed = SdkSigning.sign(request(SdkHttpMethod.PUT, "http", "chunked/" + size).build(), body, ACCESS_KEY,
                SECRET, CLOCK, SdkSigning.Options.chunked(true, checksum));
        assertThat(signed.request().header("x-amz-content-sha256")).isEqualTo(checksum == null
                ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" : "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
        Authentication authentication = verifier.verify(signed.request());
        assertThat(authentication.decodedLength()).isEqualTo(size);
        assertThat(authentication.body(new ByteArrayInputStream(signed.wireBody())).readAllBytes()).isEqualTo(body);
    }

    @ParameterizedTest
    @MethodSource("chunkedCases")
    void chunkedUnsignedWithTrailer(int size, ChecksumAlgorithm checksum) throws IOException {
        if (checksum == null) {
            return; // the SDK only sends unsigned chunks to carry a checksum trailer
        }
        byte[] body = randomBytes(size, size + 1);
        var signed = SdkSigning.sign(request(SdkHttpMethod.PUT, "https", "unsigned/" + size).build(), body, ACCESS_KEY,
                SECRET, CLOCK, SdkSigning.Options.chunked(false, checksum));
        assertThat(signed.request().header("x-amz-content-sha256")).isEqualTo("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        Authentication authentication = verifier.verify(signed.request());
        assertThat(authentication.decodedLength()).isEqualTo(size);
        assertThat(authentication.body(new ByteArrayInputStream(signed.wireBody())).readAllBytes()).isEqualTo(body);
    }

    @Test
    void bodyReadOneByteAtATime() throws IOException {
        byte[] body = randomBytes(SDK_CHUNK + 5, 3);
        var signed = SdkSigning.sign(request(SdkHttpMethod.PUT, "http", "bytes").build(), body, ACCESS_KEY, SECRET,
                CLOCK, SdkSigning.Options.chunked(true, DefaultChecksumAlgorithm.CRC32));
        var in = verifier.verify(signed.request()).body(new ByteArrayInputStream(signed.wireBody()));
        var out = new java.io.ByteArrayOutputStream();
        for (int b = in.read(); b >= 0; b = in.read()) {
            out.write(b);
        }
        assertThat(out.toByteArray()).isEqualTo(body);
        assertThat(in.read()).isEqualTo(-1);
    }

    static SdkHttpRequest.Builder request(SdkHttpMethod method, String protocol, String key) {
        return SdkHttpRequest.builder().method(method).protocol(protocol).host("hayloft.local").port(9000)
                .encodedPath("/bucket" + (key.isEmpty() ? "" : "/" + SdkHttpUtils.urlEncodeIgnoreSlashes(key)));
    }

    private byte[] read(SdkSigning.Signed signed) throws IOException {
        Authentication authentication = verifier.verify(signed.request());
        assertThat(authentication.accessKey()).isEqualTo(ACCESS_KEY);
        return authentication.body(new ByteArrayInputStream(signed.wireBody())).readAllBytes();
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }
}
