package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Small objects are served from the gateway's memory: with every store stopped, a hot small
 * object still reads (names still come from meta, so an overwrite or delete is seen at once),
 * while a large one cannot.
 */
class HotObjectCacheTest {
    @TempDir
    Path dir;

    @Test
    void hotSmallObjectsComeFromMemory() throws Exception {
        try (GatewayFixture fx = GatewayFixture.start(dir, GatewayFixture.config().withCache(8 << 20, 64 << 10));
                S3Client s3 = fx.s3()) {
            s3.createBucket(b -> b.bucket("hot"));
            byte[] small = new byte[4096];
            byte[] large = new byte[300_000];
            new Random(7).nextBytes(small);
            new Random(8).nextBytes(large);
            s3.putObject(b -> b.bucket("hot").key("small"), RequestBody.fromBytes(small));
            s3.putObject(b -> b.bucket("hot").key("large"), RequestBody.fromBytes(large));
            s3.putObject(b -> b.bucket("hot").key("gone"), RequestBody.fromString("soon deleted"));
            s3.deleteObject(b -> b.bucket("hot").key("gone"));

            for (int i = 0; i < fx.cluster.storeCount(); i++) {
                fx.cluster.stopStore(i);
            }
            assertThat(s3.getObjectAsBytes(b -> b.bucket("hot").key("small")).asByteArray()).isEqualTo(small);
            assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket("hot").key("large")))
                    .isInstanceOfSatisfying(software.amazon.awssdk.services.s3.model.S3Exception.class,
                            e -> assertThat(e.statusCode()).isIn(500, 503));
            assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket("hot").key("gone")))
                    .isInstanceOfSatisfying(software.amazon.awssdk.services.s3.model.S3Exception.class,
                            e -> assertThat(e.statusCode()).isEqualTo(404));
        }
    }
}
