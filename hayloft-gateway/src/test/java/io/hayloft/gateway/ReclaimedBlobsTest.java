package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hayloft.client.HayloftException;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;

/**
 * The blobs an overwrite or a delete lets go of are deleted from the stores after the request
 * is answered, and the object's new bytes are what reads return from the start.
 */
class ReclaimedBlobsTest {
    @TempDir
    Path dir;

    private static byte[] bytes(int seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static List<Fid> fids(GatewayFixture fx, String bucket, String key) {
        List<Fid> out = new ArrayList<>();
        for (Chunk c : fx.client.meta().getObject(bucket, key).getChunksList()) {
            out.add(c.getFid());
        }
        return out;
    }

    private static void awaitDeleted(GatewayFixture fx, List<Fid> fids) {
        assertThat(fids).isNotEmpty();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Fid fid : fids) {
                assertThatThrownBy(() -> fx.client.read(fid)).isInstanceOfSatisfying(HayloftException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.DELETED));
            }
        });
    }

    @Test
    void overwrittenAndDeletedObjectsLeaveNoBlobsBehind() throws Exception {
        try (GatewayFixture fx = GatewayFixture.start(dir, GatewayFixture.config());
                S3Client s3 = fx.s3()) {
            s3.createBucket(b -> b.bucket("reclaim"));
            s3.putObject(b -> b.bucket("reclaim").key("small"), RequestBody.fromBytes(bytes(1, 4096)));
            // Three chunks of 256 KiB or less.
            s3.putObject(b -> b.bucket("reclaim").key("large"), RequestBody.fromBytes(bytes(2, 600_000)));
            s3.putObject(b -> b.bucket("reclaim").key("batch-a"), RequestBody.fromBytes(bytes(3, 100)));
            s3.putObject(b -> b.bucket("reclaim").key("batch-b"), RequestBody.fromBytes(bytes(4, 300_000)));
            List<Fid> small = fids(fx, "reclaim", "small");
            List<Fid> large = fids(fx, "reclaim", "large");
            List<Fid> batch = new ArrayList<>(fids(fx, "reclaim", "batch-a"));
            batch.addAll(fids(fx, "reclaim", "batch-b"));
            assertThat(large).hasSize(3);

            byte[] newer = bytes(5, 4096);
            s3.putObject(b -> b.bucket("reclaim").key("small"), RequestBody.fromBytes(newer));
            assertThat(s3.getObjectAsBytes(b -> b.bucket("reclaim").key("small")).asByteArray()).isEqualTo(newer);
            s3.deleteObject(b -> b.bucket("reclaim").key("large"));
            s3.deleteObjects(b -> b.bucket("reclaim").delete(Delete.builder().objects(
                    ObjectIdentifier.builder().key("batch-a").build(),
                    ObjectIdentifier.builder().key("batch-b").build()).build()));

            awaitDeleted(fx, small);
            awaitDeleted(fx, large);
            awaitDeleted(fx, batch);
            // The object that replaced the small one keeps its blob.
            assertThat(fx.client.read(fids(fx, "reclaim", "small").getFirst())).isEqualTo(newer);
        }
    }
}
