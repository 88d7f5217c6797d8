package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * A 200 MiB object goes in and out through a gateway whose whole process (meta, three stores and
 * the gateway) has a 160 MiB heap: bodies are streamed chunk by chunk, never held whole.
 */
class LargeObjectTest {
    static final long SIZE = 200L << 20;
    static final String HEAP = "-Xmx160m";

    @TempDir
    Path dir;

    @Test
    void aLargeObjectStreamsThroughASmallHeap() throws Exception {
        Path endpointFile = dir.resolve("endpoint");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
                "--enable-native-access=ALL-UNNAMED", "-XX:+ExitOnOutOfMemoryError",
                "-cp", System.getProperty("java.class.path"), GatewayMain.class.getName(),
                dir.resolve("data").toString(), endpointFile.toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve("server.log").toFile()).start();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(endpointFile) || !p.isAlive());
            assertThat(p.isAlive()).as("server process (see %s)", dir.resolve("server.log")).isTrue();
            try (S3Client s3 = S3Client.builder().endpointOverride(URI.create(Files.readString(endpointFile)))
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                            GatewayFixture.ACCESS_KEY, GatewayFixture.SECRET_KEY)))
                    .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                    .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofMinutes(5)).build())
                    .build()) {
                s3.createBucket(b -> b.bucket("large"));
                MessageDigest sent = MessageDigest.getInstance("SHA-256");
                s3.putObject(b -> b.bucket("large").key("blob"),
                        RequestBody.fromContentProvider(() -> new Pattern(SIZE, sent), SIZE, "application/octet-stream"));
                MessageDigest back = MessageDigest.getInstance("SHA-256");
                long read = s3.getObject(b -> b.bucket("large").key("blob"), ResponseTransformer.unmanaged((r, in) -> {
                    byte[] buf = new byte[1 << 16];
                    long n = 0;
                    for (int k; (k = in.read(buf)) >= 0; ) {
                        back.update(buf, 0, k);
                        n += k;
                    }
                    return n;
                }));
                assertThat(read).isEqualTo(SIZE);
                assertThat(back.digest()).isEqualTo(new Pattern(SIZE, MessageDigest.getInstance("SHA-256")).digestAll());
                assertThat(p.isAlive()).as("the server survived").isTrue();
            }
        } finally {
            p.getOutputStream().close();
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    /** A reproducible stream of pseudo-random bytes, digested as it is read. */
    static final class Pattern extends InputStream {
        private final long size;
        private final MessageDigest digest;
        private long pos;
        private long state = 0x9E3779B97F4A7C15L;

        Pattern(long size, MessageDigest digest) {
            this.size = size;
            this.digest = digest;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - pos);
            for (int i = 0; i < n; i++) {
                state ^= state << 13;
                state ^= state >>> 7;
                state ^= state << 17;
                b[off + i] = (byte) state;
            }
            digest.update(b, off, n);
            pos += n;
            return n;
        }

        byte[] digestAll() {
            byte[] buf = new byte[1 << 16];
            while (read(buf, 0, buf.length) >= 0) {
                // digest as we go
            }
            return digest.digest();
        }
    }
}
