package io.hayloft.meta.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.GetObjectRequest;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaQuery;
import io.hayloft.proto.v1.MetaQueryResult;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PutObjectRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three meta peers in one JVM on loopback: names survive the loss of the leader and a restart. */
class MetaRaftGroupTest {
    @TempDir
    Path dir;

    private MetaGroup group;
    private RaftClient client;

    private void startGroup() throws IOException {
        group = MetaGroup.start(dir, 3, 20);
        client = group.client();
    }

    @AfterEach
    void stop() throws IOException {
        if (group != null) {
            group.close();
        }
    }

    private MetaBatchResult send(MetaCommand... commands) throws IOException {
        RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(
                MetaBatch.newBuilder().addAllCommands(List.of(commands)).build().toByteArray())));
        assertThat(reply.isSuccess()).isTrue();
        return MetaBatchResult.parseFrom(reply.getMessage().getContent().toByteArray());
    }

    private MetaQueryResult get(String bucket, String key) throws IOException {
        RaftClientReply reply = client.io().sendReadOnly(Message.valueOf(ByteString.copyFrom(MetaQuery.newBuilder()
                .setGetObject(GetObjectRequest.newBuilder().setBucket(bucket).setKey(key)).build().toByteArray())));
        return MetaQueryResult.parseFrom(reply.getMessage().getContent().toByteArray());
    }

    private static MetaCommand put(String key, long needle) {
        return MetaCommand.newBuilder().setTimeMs(needle).setPutObject(PutObjectRequest.newBuilder().setObject(
                ObjectInfo.newBuilder().setBucket("bucket1").setKey(key).setSize(1).addChunks(Chunk.newBuilder()
                        .setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(needle).setCookie(1)).setLength(1)))).build();
    }

    /** Many concurrent callers share Raft entries, and every caller gets its own result. */
    @Test
    void concurrentProposalsAreBatched() throws Exception {
        startGroup();
        send(MetaCommand.newBuilder().setTimeMs(1).setCreateBucket(CreateBucketRequest.newBuilder().setBucket("bucket1"))
                .build());
        java.util.concurrent.atomic.AtomicInteger entries = new java.util.concurrent.atomic.AtomicInteger();
        ProposalBatcher batcher = new ProposalBatcher(m -> {
            entries.incrementAndGet();
            return client.async().send(m);
        }, 500, 4);
        int callers = 64;
        int perCaller = 40;
        List<java.util.concurrent.CompletableFuture<io.hayloft.proto.v1.MetaResult>> results = new ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int caller = c;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perCaller; i++) {
                        var f = batcher.submit(put("c" + caller + "-" + i, caller * 1000L + i));
                        synchronized (results) {
                            results.add(f);
                        }
                        f.join();
                    }
                }));
            }
            for (var f : done) {
                f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
        assertThat(results).hasSize(callers * perCaller);
        assertThat(results).allSatisfy(f -> assertThat(f.join().hasPutObject()).isTrue());
        assertThat(entries.get()).as("log entries for %d puts", callers * perCaller).isLessThan(callers * perCaller / 4);
        assertThat(get("bucket1", "c63-39").getObject().getObject().getChunks(0).getFid().getNeedleId())
                .isEqualTo(63039);
    }

    private List<String> snapshotFiles(int peer) throws IOException {
        try (var files = java.nio.file.Files.walk(group.peerDirectory(peer))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("snapshot\\.\\d+_\\d+")).toList();
        }
    }

    private long newestSnapshot(int peer) throws IOException {
        return snapshotFiles(peer).stream().mapToLong(n -> Long.parseLong(n.substring(n.indexOf('_') + 1))).max()
                .orElse(0);
    }

    @Test
    void namesSurviveLeaderLossAndRestart() throws Exception {
        startGroup();
        MetaBatchResult created = send(MetaCommand.newBuilder().setTimeMs(1)
                .setCreateBucket(CreateBucketRequest.newBuilder().setBucket("bucket1")).build());
        assertThat(created.getResults(0).getOk()).isTrue();
        for (int i = 0; i < 60; i++) {
            MetaBatchResult r = send(put("k" + i, i + 1), put("k" + i, i + 1000));
            assertThat(r.getResults(1).getPutObject().getReplacedList()).hasSize(1);
        }
        assertThat(get("bucket1", "k7").getObject().getObject().getChunks(0).getFid().getNeedleId()).isEqualTo(1007);
        assertThat(get("bucket1", "nope").getError().getCode()).isEqualTo(ErrorCode.NO_SUCH_KEY);

        int leader = group.leaderIndex();
        assertThat(leader).isNotNegative();
        // Snapshots (packed RocksDB checkpoints) are packed off the apply thread and reach Ratis
        // at its next apply, which then deletes all but the newest two.
        int extra = 0;
        for (; extra < 500 && newestSnapshot(leader) < 100; extra++) {
            send(put("extra" + extra, 3000 + extra));
        }
        assertThat(newestSnapshot(leader)).as("newest snapshot after %d more entries", extra).isGreaterThanOrEqualTo(100);
        for (int i = 0; i < 100 && snapshotFiles(leader).size() > 2; i++) {
            send(put("extra" + extra, 3000 + extra));
            extra++;
        }
        assertThat(snapshotFiles(leader)).as("snapshots kept").hasSizeBetween(1, 2);
        group.stopPeer(leader);
        send(put("after-failover", 77));
        assertThat(get("bucket1", "k59").getObject().getObject().getChunks(0).getFid().getNeedleId()).isEqualTo(1059);

        // The old leader comes back, with snapshots taken meanwhile, and catches up.
        group.restartPeer(leader);
        for (int i = 0; i < 30; i++) {
            send(put("late" + i, 5000 + i));
        }
        int other = (leader + 1) % 3;
        group.stopPeer(other);
        assertThat(get("bucket1", "late29").getObject().getObject().getChunks(0).getFid().getNeedleId()).isEqualTo(5029);
        assertThat(get("bucket1", "after-failover").getObject().getObject().getChunks(0).getFid().getNeedleId())
                .isEqualTo(77);
    }
}
