package io.hayloft.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.hayloft.client.HayloftClient;
import io.hayloft.client.HayloftException;
import io.hayloft.meta.server.MetaNode;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.OrphanAuditStatus;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.UploadInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orphan audit deletes needles no name keeps alive (a gateway died between writing a blob
 * and naming it) and keeps every needle an object or an open upload's part names, including one
 * named while the audit waited out its grace period.
 */
class OrphanAuditTest {
    @TempDir
    Path dir;

    private LocalCluster cluster;
    private HayloftClient client;

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void unnamedNeedlesAreDeletedAndNamedOnesKept() throws Exception {
        long seed = System.nanoTime();
        System.out.println("OrphanAuditTest seed " + seed);
        Random random = new Random(seed);
        cluster = LocalCluster.start(dir, LocalCluster.Options.defaults().withMetaPeers(1).withStores(4)
                .withOrphanAudit(Duration.ZERO, Duration.ofSeconds(3)));
        client = cluster.client();
        client.meta().createBucket("albums");
        Map<Fid, byte[]> kept = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            byte[] data = bytes(random, 1 + random.nextInt(50_000));
            Fid fid = client.write(data);
            client.meta().putObject(object("k" + i, fid, data.length));
            kept.put(fid, data);
        }
        UploadInfo upload = client.meta().createMultipartUpload(ObjectInfo.newBuilder().setBucket("albums").setKey("big")
                .build());
        byte[] partData = bytes(random, 6 << 20);
        Fid partFid = client.write(partData);
        client.meta().putPart("albums", "big", upload.getUploadId(), PartInfo.newBuilder().setPartNumber(1)
                .setSize(partData.length).setEtag("0123456789abcdef0123456789abcdef")
                .addChunks(Chunk.newBuilder().setFid(partFid).setLength(partData.length)).build());
        kept.put(partFid, partData);
        List<Fid> orphans = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            orphans.add(client.write(bytes(random, 1 + random.nextInt(20_000))));
        }
        byte[] lateData = bytes(random, 1000);
        Fid late = client.write(lateData);
        kept.put(late, lateData);

        MetaNode leader = cluster.meta().node(cluster.meta().leaderIndex());
        CompletableFuture<Long> audit = CompletableFuture.supplyAsync(() -> {
            try {
                return leader.auditOrphansNow();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // The late needle's upload names it while the audit waits out the grace period.
        await().atMost(Duration.ofSeconds(30)).until(() -> orphanAudit().getState().equals("waiting"));
        client.meta().putObject(object("late", late, lateData.length));

        assertThat(audit.get(60, TimeUnit.SECONDS)).isEqualTo(orphans.size());
        OrphanAuditStatus status = orphanAudit();
        assertThat(status.getFound()).isEqualTo(orphans.size() + 1);
        assertThat(status.getDeleted()).isEqualTo(orphans.size());
        assertThat(status.getNeedlesChecked()).isEqualTo(kept.size() + orphans.size());
        assertThat(status.getAudits()).isEqualTo(1);
        for (Fid orphan : orphans) {
            HayloftException e = catchThrowableOfType(HayloftException.class, () -> client.read(orphan));
            assertThat(e).as("orphan %s", orphan).isNotNull();
            assertThat(e.code()).isIn(ErrorCode.DELETED, ErrorCode.NOT_FOUND);
        }
        for (Map.Entry<Fid, byte[]> e : kept.entrySet()) {
            assertThat(client.read(e.getKey())).isEqualTo(e.getValue());
        }
        // The tombstones reached every replica: they are identical.
        cluster.awaitHealed(Duration.ofSeconds(30));

        // A second audit finds nothing more to delete.
        assertThat(leader.auditOrphansNow()).isZero();
    }

    private OrphanAuditStatus orphanAudit() {
        return client.meta().clusterStatus().getOrphans();
    }

    private static ObjectInfo object(String key, Fid fid, int length) {
        return ObjectInfo.newBuilder().setBucket("albums").setKey(key).setSize(length)
                .addChunks(Chunk.newBuilder().setFid(fid).setLength(length)).build();
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
