package io.hayloft.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.hayloft.gateway.S3Exception;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.checksums.spi.ChecksumAlgorithm;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * Random requests (keys, secrets, headers, query parameters, bodies, payload modes) signed by the AWS
 * SDK verify and decode to their bodies when read in random slices from a body that trickles in; a
 * random flipped byte of a protected body is always caught. Run with {@code -Dseed=N} to repeat a
 * failure ({@code -Drounds=N} for a longer run); the seed is in every assertion message.
 */
class SigV4PropertyTest {
    private static final int ROUNDS = Integer.getInteger("rounds", 60);
    private static final String ALPHABET = "abcXYZ019 -._~/+=&?%#!*'()[]$,;:@\"<>\\^`{|}\tüßé日本😀ключ";
    private static final List<ChecksumAlgorithm> CHECKSUMS = List.of(DefaultChecksumAlgorithm.CRC32,
            DefaultChecksumAlgorithm.CRC32C, DefaultChecksumAlgorithm.SHA1, DefaultChecksumAlgorithm.SHA256);

    private enum Mode { SIGNED_PAYLOAD, UNSIGNED_PAYLOAD, SIGNED_CHUNKS, SIGNED_CHUNKS_TRAILER, UNSIGNED_TRAILER, PRESIGNED }

    @Test
    void randomRequestsVerifyAndTamperingIsCaught() throws IOException {
        long seed = Long.getLong("seed", System.nanoTime());
        Random random = new Random(seed);
        for (int round = 0; round < ROUNDS; round++) {
            String context = "seed=" + seed + " round=" + round;
            Clock clock = Clock.fixed(Instant.parse("2020-01-01T00:00:00Z").plusSeconds(random.nextInt(200_000_000)),
                    ZoneOffset.UTC);
            String accessKey = "AK" + Long.toHexString(random.nextLong()).toUpperCase();
            String secret = "s" + randomText(random, 40) + "s"; // the SDK trims secrets before it signs
            Mode mode = Mode.values()[random.nextInt(Mode.values().length)];
            byte[] body = mode == Mode.PRESIGNED && random.nextBoolean() ? null : randomBody(random);
            SdkHttpRequest request = randomRequest(random, body == null ? SdkHttpMethod.GET : SdkHttpMethod.PUT,
                    // over plain HTTP the SDK's bare signer signs the payload even of a presigned URL; S3Presigner
                    // and S3 take UNSIGNED-PAYLOAD, which the bare signer uses over TLS
                    mode == Mode.UNSIGNED_PAYLOAD || mode == Mode.UNSIGNED_TRAILER || mode == Mode.PRESIGNED
                            ? "https" : "http");
            var signed = SdkSigning.sign(request, body, accessKey, secret, clock, options(random, mode));
            context += " mode=" + mode + " path=" + signed.request().rawPath() + " query=" + signed.request().rawQuery()
                    + " body=" + (body == null ? "none" : body.length);

            var verifier = new SigV4Verifier(Map.of(accessKey, secret, "OTHER", "other"), false,
                    Clock.offset(clock, Duration.ofSeconds(random.nextInt(1700) - 850)));
            Authentication authentication;
            byte[] read;
            try {
                authentication = verifier.verify(signed.request());
                read = readInSlices(authentication.body(new Trickle(signed.wireBody(), random)), random);
            } catch (S3Exception e) {
                throw new AssertionError(context + " headers=" + signed.request().headers() + ": " + e.getMessage(), e);
            }
            assertThat(authentication.accessKey()).as(context).isEqualTo(accessKey);
            assertThat(read).as(context).isEqualTo(body == null ? new byte[0] : body);

            if (body != null && body.length > 0 && mode != Mode.UNSIGNED_PAYLOAD && mode != Mode.PRESIGNED) {
                byte[] altered = signed.wireBody().clone();
                int at = random.nextInt(altered.length);
                altered[at] ^= (byte) (1 << random.nextInt(8));
                var in = authentication.body(new Trickle(altered, random));
                // a flip may be harmless (the case of a hex digit in a chunk size, of a trailer name), but
                // altered data must never come out
                Throwable failure = catchThrowable(() -> assertThat(readInSlices(in, random)).isEqualTo(body));
                if (failure != null) {
                    assertThat(failure).as(context + " flipped byte " + at).isInstanceOf(S3Exception.class);
                }
            }
            var wrongSecret = new SigV4Verifier(Map.of(accessKey, secret + "x"), false, clock);
            assertThat(catchThrowable(() -> wrongSecret.verify(signed.request()))).as(context)
                    .isInstanceOf(S3Exception.class);
        }
    }

    private static SdkSigning.Options options(Random random, Mode mode) {
        ChecksumAlgorithm checksum = CHECKSUMS.get(random.nextInt(CHECKSUMS.size()));
        return switch (mode) {
            case SIGNED_PAYLOAD -> SdkSigning.Options.header(true);
            case UNSIGNED_PAYLOAD -> SdkSigning.Options.header(false);
            case SIGNED_CHUNKS -> SdkSigning.Options.chunked(true, null);
            case SIGNED_CHUNKS_TRAILER -> SdkSigning.Options.chunked(true, checksum);
            case UNSIGNED_TRAILER -> SdkSigning.Options.chunked(false, checksum);
            case PRESIGNED -> SdkSigning.Options.presigned(Duration.ofSeconds(1000 + random.nextInt(600_000)));
        };
    }

    private static SdkHttpRequest randomRequest(Random random, SdkHttpMethod method, String protocol) {
        var builder = SdkHttpRequest.builder().method(method).protocol(protocol).host("gw" + random.nextInt(9) + ".test")
                .port(random.nextBoolean() ? 9000 : (protocol.equals("http") ? 80 : 443))
                .encodedPath("/bucket-" + random.nextInt(100) + "/"
                        + SdkHttpUtils.urlEncodeIgnoreSlashes(randomText(random, 1 + random.nextInt(60))));
        for (int i = random.nextInt(4); i > 0; i--) {
            builder.appendRawQueryParameter(randomText(random, 1 + random.nextInt(8)),
                    random.nextInt(4) == 0 ? "" : randomText(random, random.nextInt(12)));
        }
        for (int i = random.nextInt(4); i > 0; i--) {
            builder.appendHeader("x-amz-meta-m" + random.nextInt(1000),
                    " " + randomText(random, 1 + random.nextInt(20)).replace('\n', ' ').replace('\r', ' ') + "  ");
        }
        return builder.build();
    }

    private static String randomText(Random random, int length) {
        StringBuilder text = new StringBuilder();
        int[] codePoints = ALPHABET.codePoints().toArray();
        while (text.length() < length) {
            text.appendCodePoint(codePoints[random.nextInt(codePoints.length)]);
        }
        return text.toString();
    }

    private static byte[] randomBody(Random random) {
        int size = switch (random.nextInt(4)) {
            case 0 -> random.nextInt(3);
            case 1 -> random.nextInt(5000);
            case 2 -> 128 * 1024 + random.nextInt(3) - 1;
            default -> random.nextInt(600_000);
        };
        byte[] body = new byte[size];
        random.nextBytes(body);
        return body;
    }

    private static byte[] readInSlices(InputStream in, Random random) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[70_000];
        while (true) {
            if (random.nextInt(10) == 0) {
                int b = in.read();
                if (b < 0) {
                    return out.toByteArray();
                }
                out.write(b);
            } else {
                int n = in.read(buffer, 0, 1 + random.nextInt(buffer.length));
                if (n < 0) {
                    return out.toByteArray();
                }
                out.write(buffer, 0, n);
            }
        }
    }

    /** A body that arrives a few bytes or kilobytes at a time, as from a socket. */
    private static final class Trickle extends FilterInputStream {
        private final Random random;

        Trickle(byte[] data, Random random) {
            super(new ByteArrayInputStream(data));
            this.random = random;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, 1 + random.nextInt(9000)));
        }
    }
}
