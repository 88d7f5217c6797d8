package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hayloft.client.HayloftException;
import io.hayloft.client.MetaClient;
import io.hayloft.cluster.LocalCluster;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.store.StoreNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * With its stores in its own process, the gateway names a PUT's object once the primary has the
 * body durable, while the other replicas finish, and answers only once all have it: a name is
 * never committed before a durable copy of its bytes, and an answered PUT is on every replica.
 */
class PrimaryFirstPutsTest {
    @TempDir
    Path dir;

    /** Names that check, as each name is put, that its primary already has the bytes durable. */
    private static final class Checking extends ForwardingNames {
        private LocalCluster cluster;
        private MetaClient meta;
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

        Checking(ObjectNames names) {
            super(names);
        }

        @Override
        public List<Chunk> put(ObjectInfo object) {
            check(object);
            return names.put(object);
        }

        @Override
        public List<Chunk> put(ObjectInfo object, Announcement announcement) {
            check(object);
            return names.put(object, announcement);
        }

        private void check(ObjectInfo object) {
            for (Chunk c : object.getChunksList()) {
                StoreInfo primary = meta.lookupVolume(c.getFid().getVolumeId()).getReplicas(0);
                try {
                    byte[] data = store(cluster, primary).server().readLocal(c.getFid());
                    if (data.length != c.getLength()) {
                        problems.add(object.getKey() + ": " + data.length + " bytes on the primary");
                    }
                } catch (HayloftException e) {
                    problems.add(object.getKey() + ": named before its primary had it: " + e.getMessage());
                }
            }
        }
    }

    private static StoreNode store(LocalCluster cluster, StoreInfo replica) {
        return cluster.store(Integer.parseInt(replica.getStoreId().substring("store".length())));
    }

    @Test
    void anAnsweredPutIsOnEveryReplicaAndAFailedReplicaFailsThePutWithItsObjectInPlace() throws Exception {
        Checking[] names = new Checking[1];
        try (GatewayFixture f = GatewayFixture.startInProcess(dir, LocalCluster.Options.defaults().withMetaPeers(1)
                        .withStores(4).withLiveness(Duration.ofMillis(250), Duration.ofSeconds(3)),
                remote -> names[0] = new Checking(remote))) {
            Checking checking = names[0];
            checking.cluster = f.cluster;
            checking.meta = f.client.meta();
            S3Client s3 = f.s3TryingOnce();
            s3.createBucket(b -> b.bucket("early"));

            List<Future<?>> puts = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                for (int i = 0; i < 64; i++) {
                    String key = "k" + i;
                    puts.add(pool.submit(() -> s3.putObject(b -> b.bucket("early").key(key),
                            RequestBody.fromString("value of " + key))));
                }
                for (Future<?> p : puts) {
                    p.get();
                }
            }
            assertThat(checking.problems).isEmpty();
            for (int i = 0; i < 64; i++) {
                ObjectInfo o = f.client.meta().getObject("early", "k" + i);
                for (StoreInfo r : f.client.meta().lookupVolume(o.getChunks(0).getFid().getVolumeId()).getReplicasList()) {
                    assertThat(new String(store(f.cluster, r).server().readLocal(o.getChunks(0).getFid()),
                            StandardCharsets.UTF_8)).as("k%d on %s", i, r.getStoreId()).isEqualTo("value of k" + i);
                }
            }

            // A secondary of the volume being written stops: the next PUT is named once its
            // primary has it, then fails when the secondary does not answer; its object is there.
            ObjectInfo last = f.client.meta().getObject("early", "k63");
            StoreInfo secondary = f.client.meta().lookupVolume(last.getChunks(0).getFid().getVolumeId()).getReplicas(2);
            int stopped = Integer.parseInt(secondary.getStoreId().substring("store".length()));
            f.cluster.stopStore(stopped);
            assertThatThrownBy(() -> s3.putObject(b -> b.bucket("early").key("during"),
                    RequestBody.fromString("written while a replica failed")))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(503);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ServiceUnavailable");
                    });
            assertThat(s3.getObjectAsBytes(b -> b.bucket("early").key("during")).asUtf8String())
                    .isEqualTo("written while a replica failed");
            assertThat(checking.problems).isEmpty();

            // Once meta knows the store is gone, PUTs go to volumes without it.
            await().atMost(Duration.ofSeconds(30)).until(() -> f.cluster.storeState(stopped) == StoreState.STORE_DEAD);
            s3.putObject(b -> b.bucket("early").key("after"), RequestBody.fromString("after"));
            assertThat(s3.getObjectAsBytes(b -> b.bucket("early").key("after")).asUtf8String()).isEqualTo("after");
        }
    }
}
